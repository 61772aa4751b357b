import * as z from 'zod';
import { CheckArgsError } from '../core/errors.js';
import type { Check } from './check.js';

/**
 * Validates and defaults a check's arguments; the error names the check, the field and the problem.
 * An argument the check does not know is an error too (a typo such as `prot=80` must not be ignored).
 */
/** Validated arguments -> the input they were validated from (see `argsInput`). */
const inputs = new WeakMap<object, unknown>();

/**
 * The input that `args` were validated from by `validateCheckArgs`, or undefined. A schema's transforms do
 * not round-trip (dns `server: "ip:port"` becomes `{address, port}`), so what crosses to a worker thread or a
 * distributed worker, to be validated again there, is the input, not the output.
 */
export function argsInput(args: unknown): unknown {
  return typeof args === 'object' && args !== null ? inputs.get(args) : undefined;
}

export function validateCheckArgs<A>(check: Check<A>, raw: unknown): A {
  const input = (raw ?? {}) as Record<string, unknown>;
  if (check.args instanceof z.ZodObject) {
    const known = Object.keys(check.args.shape);
    const unknown = Object.keys(input).filter((k) => !known.includes(k));
    if (unknown.length > 0) {
      throw new CheckArgsError(
        `bad argument for check "${check.name}": unknown argument "${unknown[0]}" (known: ${known.join(', ')})`,
      );
    }
  }
  const parsed = check.args.safeParse(input);
  if (parsed.success) {
    if (typeof parsed.data === 'object' && parsed.data !== null) inputs.set(parsed.data, input);
    return parsed.data;
  }
  const issue = parsed.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : '(arguments)';
  throw new CheckArgsError(
    `bad argument for check "${check.name}": ${field}: ${issue?.message ?? 'invalid'}`,
  );
}
