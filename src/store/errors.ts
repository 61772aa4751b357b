import { describeError, FleetprobeError } from '../core/errors.js';

/**
 * A store operation failed (database unreachable, constraint, disk full...). `op` names the operation
 * (`insertResults`, `getRun`...); `cause` is the driver's error. Code `FP_STORE`.
 */
export class StoreError extends FleetprobeError {
  readonly op: string;
  constructor(op: string, cause: unknown) {
    const why = cause instanceof Error ? cause.message || cause.name : String(cause);
    super('FP_STORE', `store ${op} failed: ${why}`, { cause });
    this.op = op;
  }
}

/** A store URL that is neither a postgres:// URL nor a usable SQLite path. Code `FP_STORE_URL`. */
export class StoreUrlError extends FleetprobeError {
  constructor(message: string) {
    super('FP_STORE_URL', message);
  }
}

/**
 * The store cannot be opened: a SQLite path whose folder does not exist or is not writable, an unreachable
 * or refusing PostgreSQL, a failed migration. Code `FP_STORE_OPEN`; the CLI exits 2 with this one line.
 */
export class StoreOpenError extends FleetprobeError {
  constructor(what: string, cause: unknown) {
    super('FP_STORE_OPEN', `cannot open the store ${what}: ${describeError(cause)}`, { cause });
  }
}

/** A URL as it may be shown: without its password. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** A pagination cursor that this store did not issue (malformed). Code `FP_BAD_CURSOR`; the API answers 400. */
export class CursorError extends FleetprobeError {
  constructor(cursor: string) {
    super('FP_BAD_CURSOR', `cursor "${cursor.slice(0, 40)}" is not valid`);
  }
}

/** Runs one store operation: a driver error becomes `StoreError(op)`; StoreError and CursorError pass through. */
export async function guardStoreOp<T>(op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StoreError || err instanceof CursorError || err instanceof BadFilterError) throw err;
    throw new StoreError(op, err);
  }
}

/** A result filter the store cannot apply (e.g. a CIDR prefix length over 32). Code `FP_BAD_FILTER`; the API answers 400. */
export class BadFilterError extends FleetprobeError {
  constructor(message: string) {
    super('FP_BAD_FILTER', message);
  }
}
