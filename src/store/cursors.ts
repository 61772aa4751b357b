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
