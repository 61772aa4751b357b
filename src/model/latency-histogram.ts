/**
 * Upper bounds (ms, inclusive) of the fixed latency buckets kept per target and hour; the last bucket is open.
 * A 1-2-5 series: p95 from it is exact to the bucket and interpolated inside it (see `percentileOf`).
 */
export const LATENCY_BOUNDS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000] as const;
/** Number of buckets (one more than bounds: the last is `> 10 s`). */
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** Index of the bucket holding `ms`. */
export function bucketOf(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= LATENCY_BOUNDS_MS[i]!) return i;
  return LATENCY_BOUNDS_MS.length;
}

/**
 * Estimates the `q` quantile (0..1) from bucket counts: finds the bucket holding the rank and interpolates
 * linearly between its bounds, clamped to the observed [minMs, maxMs]. Null when there are no samples.
 */
export function percentileOf(
  buckets: readonly number[],
  q: number,
  minMs: number | null,
  maxMs: number | null,
): number | null {
  let n = 0;
  for (const c of buckets) n += c;
  if (n === 0 || minMs === null || maxMs === null) return null;
  const rank = q * n;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    const c = buckets[i]!;
    if (c === 0) continue;
    if (seen + c >= rank) {
      const lo = Math.max(i === 0 ? 0 : LATENCY_BOUNDS_MS[i - 1]!, minMs);
      const hi = Math.min(i < LATENCY_BOUNDS_MS.length ? LATENCY_BOUNDS_MS[i]! : maxMs, maxMs);
      const v = lo + ((hi - lo) * (rank - seen)) / c;
      return Math.min(Math.max(v, minMs), maxMs);
    }
    seen += c;
  }
  return maxMs;
}
