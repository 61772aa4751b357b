import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';
import * as z from 'zod';

let re2js: typeof RE2JS | undefined;
/**
 * re2js, loaded by the first pattern compiled: most runs are given none, and loading it cost every process and
 * worker thread whose check takes a pattern argument ~8 ms of CPU at start (2026-12-01).
 */
function re2(): typeof RE2JS {
  re2js ??= (createRequire(import.meta.url)('re2js') as typeof import('re2js')).RE2JS;
  return re2js;
}

/** `/source/flags`: the literal form a pattern argument may take. */
const LITERAL = /^\/(.*)\/([a-z]*)$/s;

/** JS flags a literal may carry: `i`, `m`, `s` change matching; `g`, `y`, `u`, `d` mean nothing to a test and are ignored. */
function flagBit(flag: string): number | undefined {
  switch (flag) {
    case 'i':
      return re2().CASE_INSENSITIVE;
    case 'm':
      return re2().MULTILINE;
    case 's':
      return re2().DOTALL;
    case 'g':
    case 'y':
    case 'u':
    case 'd':
      return 0;
    default:
      return undefined;
  }
}

/**
 * A user-supplied pattern compiled by RE2 (re2js): matching takes time linear in the input, whatever the
 * pattern, so a caller cannot freeze the event loop (`^(a+)+$` against a long body answers at once).
 * RE2 syntax is Perl/JS syntax without backreferences and lookaround; a pattern using them is refused.
 *
 * The trap: there is no `lastIndex` state, so one Pattern is safely shared by every target of a run.
 */
export class Pattern {
  /** The text the pattern was compiled from, as the caller wrote it (`^ok` or `/^ok/i`). */
  readonly text: string;
  readonly #re: RE2JS;
  readonly #shown: string;

  constructor(text: string, re: RE2JS, shown: string) {
    this.text = text;
    this.#re = re;
    this.#shown = shown;
  }

  /** Whether the pattern matches anywhere in `input` (linear time). */
  test(input: string): boolean {
    return this.#re.test(input);
  }

  /** `/source/flags`, for messages: "body does not match /^ok/". */
  toString(): string {
    return this.#shown;
  }

  /** The caller's text: arguments sent on (to workers, to the store) parse back to the same Pattern. */
  toJSON(): string {
    return this.text;
  }
}

/**
 * Compiles `text` (`source` or `/source/flags`) with RE2. Returns the Pattern, or for a pattern RE2 refuses
 * a one-line reason naming the pattern (the caller names the argument).
 */
export function compilePattern(text: string, opts: { multiline?: boolean } = {}): Pattern | string {
  const literal = LITERAL.exec(text);
  const source = literal ? literal[1]! : text;
  let flags = opts.multiline ? re2().MULTILINE : 0;
  let shownFlags = opts.multiline ? 'm' : '';
  for (const f of literal?.[2] ?? '') {
    const bit = flagBit(f);
    if (bit === undefined) return `unknown flag "${f}" in ${JSON.stringify(text)} (use i, m, s)`;
    if ((flags & bit) === 0 && bit !== 0) {
      flags |= bit;
      shownFlags += f;
    }
  }
  try {
    return new Pattern(text, re2().compile(source, flags), `/${source}/${shownFlags}`);
  } catch (err) {
    const reason = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : String(err);
    return `invalid pattern ${JSON.stringify(text)}: ${reason} (RE2 syntax: no backreferences or lookaround)`;
  }
}

/**
 * A check argument holding a user pattern: `source` or a `/source/flags` literal (flags `i`, `m`, `s`),
 * compiled with RE2 (see `Pattern`). A pattern RE2 refuses fails validation naming the argument, so the
 * CLI exits 2 and the API answers 400. `multiline: true` makes `^`/`$` match at line ends (as grep does).
 * Declare such arguments with the role `pattern` (see `Check.argRoles`).
 */
export function patternArg(opts: { multiline?: boolean } = {}) {
  return z.string().transform((text, ctx) => {
    const compiled = compilePattern(text, opts);
    if (typeof compiled === 'string') {
      ctx.addIssue({ code: 'custom', message: compiled });
      return z.NEVER;
    }
    return compiled;
  });
}
