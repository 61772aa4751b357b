import type * as z from 'zod';
import { ApiError } from './errors.js';

/**
 * Parses `value` with a zod schema or throws a 400 ApiError naming the first bad field with `where` as
 * prefix: `body.concurrency: ...`, `query.limit: ...`, `body: expected object`.
 */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  let path = where;
  for (const p of issue?.path ?? []) path += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  // Unknown keys are reported on the parent object by zod: name the key itself.
  if (issue?.code === 'unrecognized_keys' && issue.keys.length > 0) path += `.${issue.keys[0]}`;
  throw new ApiError('bad_request', `${path}: ${issue?.message ?? 'invalid'}`);
}
