import { UsageError } from '../../core/errors.js';
import type { Check } from '../check.js';

/** A check as a user module exports it: `defineCheck({...})` or the same plain object. */
export type UserCheck = Check<unknown> & { readonly isolate?: 'thread' };

/** Check names: lower-case words joined by `-` (they appear on the command line and in results). */
export const CHECK_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

/**
 * Finds the check a module exports (the default export, else a named `check`) and validates its shape.
 * `file` is the path as the user gave it; every problem is a one-line `UsageError` naming it.
 * A missing `description` defaults to "user check from <file>".
 */
export function pickCheckExport(mod: Record<string, unknown>, file: string): UserCheck {
  // A TypeScript module evaluated as CommonJS (its package is not "type": "module") arrives wrapped once more.
  const inner = mod.default as Record<string, unknown> | undefined;
  if (inner && typeof inner === 'object' && inner.name === undefined && (inner.default ?? inner.check))
    mod = inner;
  const which =
    mod.default !== undefined ? 'default export' : mod.check !== undefined ? 'export "check"' : null;
  if (which === null) {
    throw new UsageError(`${file}: exports no check (expected \`export default defineCheck({ ... })\`)`);
  }
  const raw = (mod.default ?? mod.check) as Record<string, unknown>;
  const bad = (what: string) => new UsageError(`${file}: ${which} ${what}`);
  if (raw === null || typeof raw !== 'object') throw bad('is not an object');
  if (typeof raw.name !== 'string' || !CHECK_NAME_PATTERN.test(raw.name)) {
    throw bad(`has a bad name ${JSON.stringify(raw.name)} (expected ${CHECK_NAME_PATTERN.source})`);
  }
  const args = raw.args as { safeParse?: unknown } | null | undefined;
  if (args === null || typeof args !== 'object' || typeof args.safeParse !== 'function') {
    throw bad('has no args schema (a zod schema, e.g. z.object({ ... }))');
  }
  if (typeof raw.timeoutMs !== 'number' || !Number.isFinite(raw.timeoutMs) || raw.timeoutMs <= 0) {
    const hint = 'timeout' in raw ? ' (the field is timeoutMs, in milliseconds)' : '';
    throw bad(`has no positive timeoutMs${hint}`);
  }
  if (typeof raw.run !== 'function') throw bad('has no run() function');
  if (raw.isolate !== undefined && raw.isolate !== 'thread') {
    throw bad(`has a bad isolate ${JSON.stringify(raw.isolate)} (only 'thread' is supported)`);
  }
  if (raw.description !== undefined && typeof raw.description !== 'string')
    throw bad('has a non-string description');
  if (raw.needsAddress !== undefined && typeof raw.needsAddress !== 'boolean')
    throw bad('has a non-boolean needsAddress');
  if (raw.defaultPort !== undefined && !isPort(raw.defaultPort)) throw bad('has a bad defaultPort');
  const check = raw as unknown as UserCheck;
  if (check.description !== undefined) return check;
  // Keep the user's object untouched (it may be frozen); the copy carries the default description.
  return Object.assign(Object.create(Object.getPrototypeOf(check) as object) as object, check, {
    description: `user check from ${file}`,
  }) as UserCheck;
}

function isPort(value: unknown): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value < 65536;
}
