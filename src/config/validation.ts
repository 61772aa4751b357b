import type * as z from 'zod';
import { describeValue } from '../core/text.js';
import { type DocPath, formatPath, type YamlSource } from '../core/yaml-source.js';
import type { ConfigProblem } from './config-error.js';

/**
 * Collects the problems of one config document, each at the line and column its path points to, so that a
 * file with several mistakes reports them all (first in document order).
 */
export class Validation {
  readonly #source: YamlSource;
  readonly #problems: (ConfigProblem & { line: number; column: number })[] = [];

  constructor(source: YamlSource) {
    this.#source = source;
  }

  /** Records a problem at `path` (at its key with `key: true`, e.g. an unknown key). */
  report(path: DocPath, message: string, opts: { key?: boolean } = {}): void {
    const { line, column } = this.#source.locate(path, opts);
    this.#problems.push({ line, column, path: formatPath(path), message });
  }

  /** The 1-based line `path` starts on. */
  lineOf(path: DocPath): number {
    return this.#source.locate(path).line;
  }

  get ok(): boolean {
    return this.#problems.length === 0;
  }

  problems(): ConfigProblem[] {
    return [...this.#problems].sort((a, b) => a.line - b.line || a.column - b.column);
  }

  /** Keys of `value` (a map) that are not in `known` are reported at the key. */
  knownKeys(value: Record<string, unknown>, known: readonly string[], path: DocPath): void {
    for (const key of Object.keys(value)) {
      if (!known.includes(key))
        this.report([...path, key], `unknown key "${key}" (expected ${known.join(', ')})`, { key: true });
    }
  }

  /**
   * Parses `value` with `schema` (for an object schema, unknown keys are reported first, with the known
   * ones, unless `knownKeys: false`); each zod issue becomes a problem at `path` + the issue's path. `undefined` when invalid.
   */
  parse<S extends z.ZodType>(
    schema: S,
    value: unknown,
    path: DocPath,
    opts: { knownKeys?: boolean } = {},
  ): z.output<S> | undefined {
    const shape = (schema as unknown as { shape?: Record<string, unknown> }).shape;
    if (shape && isMap(value) && opts.knownKeys !== false) this.knownKeys(value, Object.keys(shape), path);
    const result = schema.safeParse(value, { reportInput: true });
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      if (issue.code === 'unrecognized_keys') continue; // reported above, with the known keys
      // A custom issue about a map key (a bad label key) says so in its params, to point at the key.
      const atKey = issue.code === 'custom' && issue.params?.at === 'key';
      this.report([...path, ...(issue.path as (string | number)[])], issueMessage(issue), { key: atKey });
    }
    return undefined;
  }
}

function issueMessage(issue: z.core.$ZodIssue): string {
  const input = (issue as { input?: unknown }).input;
  if (issue.code === 'invalid_type') {
    if (input === undefined) return 'required';
    return `expected ${issue.expected === 'record' ? 'a map' : issue.expected}, got ${describeValue(input)}`;
  }
  if (issue.code === 'invalid_value' && issue.values.length > 0)
    return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(input)}`;
  const message = issue.message.replace(/^Invalid input: /, '');
  return message.length > 0 ? message[0]?.toLowerCase() + message.slice(1) : 'invalid';
}

export { describeValue };

export function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
