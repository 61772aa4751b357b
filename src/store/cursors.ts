import { type RawBuilder, sql } from 'kysely';
import { CursorError } from './errors.js';

/** Parses an integer keyset cursor (a row id or seq); empty or absent -> undefined; anything else -> CursorError. */
export function intCursor(cursor: string | undefined): number | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  if (!/^\d{1,15}$/.test(cursor)) throw new CursorError(cursor);
  return Number(cursor);
}

/** Encodes a (target, port) keyset position (port 0 = none) as an opaque cursor. */
export function encodeTargetPortCursor(target: string, port: number): string {
  return Buffer.from(JSON.stringify([target, port])).toString('base64url');
}

/** Inverse of `encodeTargetPortCursor`; empty or absent -> undefined; anything else -> CursorError. */
export function targetPortCursor(cursor: string | undefined): { target: string; port: number } | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && typeof v[0] === 'string' && Number.isInteger(v[1]))
      return { target: v[0], port: v[1] };
  } catch {
    // falls through to the CursorError
  }
  throw new CursorError(cursor);
}

/**
 * The keyset WHERE for pages in (target, port) order: rows strictly after `after`. Column names may be qualified
 * (`d.k`), so the same condition serves query-builder and raw-SQL pages.
 */
export function afterTargetPort(
  after: { target: string; port: number },
  targetColumn: string,
  portColumn = 'port',
): RawBuilder<boolean> {
  const target = sql.ref(targetColumn);
  const port = sql.ref(portColumn);
  return sql<boolean>`(${target} > ${after.target} or (${target} = ${after.target} and ${port} > ${after.port}))`;
}

/**
 * Cuts a keyset page from rows fetched with `limit + 1`: the first `limit` rows, and the cursor of the last of them
 * when the extra row shows there is more (else null).
 */
export function keysetPage<R>(
  rows: readonly R[],
  limit: number,
  cursorOf: (last: R) => string,
): { page: R[]; nextCursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}
