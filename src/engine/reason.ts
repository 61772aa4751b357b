import type { Result } from './result.js';

/** Longest reason kept, in characters: a reason is a group key, not a log line. */
export const MAX_REASON_CHARS = 200;

// Addresses first (an IPv4 address is also "numbers"), then bracketed/bare IPv6, then lone numbers.
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g;
const IPV6 = /\[?\b(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{0,4}\b\]?(?::\d{1,5})?/gi;
const NUMBER = /(?<![\w<])\d+(?:\.\d+)?(?![\w>])/g;

/**
 * The default reason of a message whose check gave none: the message with addresses masked as
 * `<address>` and numbers as `<n>`, cut at MAX_REASON_CHARS. `timeout after 1500 ms` ->
 * `timeout after <n> ms`; `connect ECONNREFUSED` stays as is. Linear-time regexes only.
 */
export function maskMessage(message: string): string {
  const known = masks.get(message);
  if (known !== undefined) return known;
  const full = message.replace(IPV4, '<address>').replace(IPV6, '<address>').replace(NUMBER, '<n>');
  const masked = full.length > MAX_REASON_CHARS ? full.slice(0, MAX_REASON_CHARS) : full;
  if (message.length <= MAX_REASON_CHARS) {
    if (masks.size >= MASKS_KEPT) masks.clear();
    masks.set(message, masked);
  }
  return masked;
}

/**
 * Short messages masked lately: a run repeats a few messages (`connect ECONNREFUSED`, `timeout after 5000 ms`)
 * for most of its results, and three regex passes cost ~0.7 µs each time.
 */
const masks = new Map<string, string>();
const MASKS_KEPT = 1024;

/** The stable reason of a result: its own, or the masked message for results from producers that set none. */
export function reasonOf(result: Pick<Result, 'message' | 'reason'>): string {
  const r = result.reason;
  if (r === undefined || r === '') return maskMessage(result.message);
  return r.length > MAX_REASON_CHARS ? r.slice(0, MAX_REASON_CHARS) : r;
}
