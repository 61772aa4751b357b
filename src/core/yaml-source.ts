import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

/** A path into a parsed document: map keys and sequence indexes. */
export type DocPath = readonly (string | number)[];

/** 1-based position in the source text. */
export interface SourcePos {
  readonly line: number;
  readonly column: number;
}

/** A YAML (or JSON) syntax error, with its position. */
export interface YamlSyntaxProblem extends SourcePos {
  readonly message: string;
}

/**
 * A parsed YAML or JSON document that can say where any of its values came from. Duplicate keys are syntax
 * errors (unless `uniqueKeys: false`); aliases are expanded with yaml's limit against alias bombs.
 */
export class YamlSource {
  readonly #lines = new LineCounter();
  readonly #doc;
  /** Syntax errors, first first; `value` is meaningless when there are any. */
  readonly errors: readonly YamlSyntaxProblem[];

  /** `uniqueKeys: false` skips the duplicate-key check, which is quadratic in the size of a map. */
  constructor(text: string, opts: { uniqueKeys?: boolean } = {}) {
    this.#doc = parseDocument(text, {
      lineCounter: this.#lines,
      prettyErrors: false,
      uniqueKeys: opts.uniqueKeys ?? true,
    });
    this.errors = this.#doc.errors.map((e) => {
      const offset = e.pos[0];
      const { line, col } = this.#lines.linePos(offset);
      // yaml's messages may end with a copy of the line and a caret on following lines: keep the first.
      const message = (e.message.split('\n')[0] ?? e.code).replace(/ at line \d+, column \d+:?$/, '');
      return { line, column: col, message: lowerFirst(message) };
    });
  }

  /** The document as plain JavaScript values (`null` for an empty document). */
  value(): unknown {
    return this.#doc.toJS({ maxAliasCount: 1000 });
  }

  /**
   * Where the value at `path` starts. When `path` does not exist (a missing key), the deepest existing
   * parent is named instead. With `key`, where the key of the last path element starts (for unknown keys).
   */
  locate(path: DocPath, opts: { key?: boolean } = {}): SourcePos {
    let node: unknown = this.#doc.contents;
    let at: number | undefined = rangeStart(node);
    for (let i = 0; i < path.length; i++) {
      const step = path[i];
      let next: unknown;
      let keyNode: unknown;
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step),
        );
        next = pair?.value;
        keyNode = pair?.key;
      } else if (isSeq(node) && typeof step === 'number') {
        next = node.items[step];
      }
      if (next === undefined && keyNode === undefined) break;
      const last = i === path.length - 1;
      const start = last && opts.key ? rangeStart(keyNode) : (rangeStart(next) ?? rangeStart(keyNode));
      if (start === undefined) break;
      at = start;
      node = next;
    }
    const { line, col } = this.#lines.linePos(at ?? 0);
    return { line, column: col };
  }
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | undefined)?.range;
  return range ? range[0] : undefined;
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]?.toLowerCase() + s.slice(1) : s;
}

/** `monitors[2].interval`, `inventories["my inv"].groups[0]`. */
export function formatPath(path: DocPath): string {
  let out = '';
  for (const step of path) {
    if (typeof step === 'number') out += `[${step}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(step)) out += out === '' ? step : `.${step}`;
    else out += `[${JSON.stringify(step)}]`;
  }
  return out;
}
