import { isIPv4 } from 'node:net';
import { type Expression, type ExpressionBuilder, type SqlBool, sql } from 'kysely';
import type { Status } from '../engine/result.js';
import { ipv4ToInt } from '../targets/ip.js';
import { BadFilterError } from './errors.js';
import type { Database } from './schema.js';
import { ipv4KeyRange } from './target-key.js';

/** Which results of a run to list, count or export. Every field narrows; absent fields match everything. */
export interface ResultFilter {
  status?: Status | undefined;
  /** Exact target address (or name, for targets given by name). */
  target?: string | undefined;
  /** Exact reason (a failure group's key together with `status`). */
  reason?: string | undefined;
  /** Substring of the message, case-insensitive; `%` and `_` are literal. */
  text?: string | undefined;
  /** An IPv4 CIDR block (`10.1.0.0/16`, exact, on the address order) or a text prefix of the target (`10.1.`). */
  address?: string | undefined;
  /** Substring of the target's name, case-insensitive. */
  name?: string | undefined;
  /** Labels that must all be present with these values. */
  labels?: Readonly<Record<string, string>> | undefined;
}

/** `a%b_c\` -> `a\%b\_c\\`: the text matches literally inside a LIKE pattern with ESCAPE '\'. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

const CIDR = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/;

/** The inclusive integer range of an IPv4 CIDR block, or undefined when `text` is not one. Throws on a bad prefix length. */
export function ipv4Cidr(text: string): [number, number] | undefined {
  const m = CIDR.exec(text);
  if (!m || !isIPv4(m[1]!)) return undefined;
  const bits = Number(m[2]);
  if (bits > 32) throw new BadFilterError(`address "${text}": prefix length ${bits} is over 32`);
  const size = 2 ** (32 - bits);
  const first = Math.floor(ipv4ToInt(m[1]!) / size) * size;
  return [first, first + size - 1];
}

/**
 * The WHERE clause of a filter on `results` (the run is matched by the caller). `like` is the dialect's
 * case-insensitive LIKE (`like` in SQLite, `ilike` in PostgreSQL).
 */
export function filterExpression(
  eb: ExpressionBuilder<Database, 'results'>,
  f: ResultFilter,
  like: 'like' | 'ilike',
): Expression<SqlBool> {
  const parts: Expression<SqlBool>[] = [];
  const op = sql.raw(like === 'ilike' ? 'ILIKE' : 'LIKE');
  const contains = (column: 'message' | 'name' | 'labels' | 'target', pattern: string) =>
    sql<SqlBool>`${sql.ref(`results.${column}`)} ${op} ${pattern} ESCAPE '\\'`;
  if (f.status !== undefined) parts.push(eb('results.status', '=', f.status));
  if (f.target !== undefined) parts.push(eb('results.target', '=', f.target));
  if (f.reason !== undefined) parts.push(eb('results.reason', '=', f.reason));
  if (f.text !== undefined && f.text !== '') parts.push(contains('message', `%${escapeLike(f.text)}%`));
  if (f.name !== undefined && f.name !== '') parts.push(contains('name', `%${escapeLike(f.name)}%`));
  if (f.address !== undefined && f.address !== '') {
    const block = ipv4Cidr(f.address);
    if (block) {
      const [lo, hi] = ipv4KeyRange(block[0], block[1]);
      parts.push(eb.and([eb('results.target_key', '>=', lo), eb('results.target_key', '<=', hi)]));
    } else {
      // A prefix is case-sensitive text, as addresses are written: use LIKE's literal form on both dialects.
      parts.push(sql<SqlBool>`${sql.ref('results.target')} LIKE ${`${escapeLike(f.address)}%`} ESCAPE '\\'`);
    }
  }
  for (const [k, v] of Object.entries(f.labels ?? {})) {
    // Labels are stored as JSON.stringify output: `"k":"v"` occurs only as that key with that whole value.
    parts.push(contains('labels', `%${escapeLike(`${JSON.stringify(k)}:${JSON.stringify(v)}`)}%`));
  }
  return eb.and(parts);
}
