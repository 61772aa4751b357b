/**
 * One target's counted results over an hour: the status counts, and the latency of the results that got an
 * answer (pass and fail). Every field is a sum or an extreme, so two of them add up into one.
 */
export interface RollupCounts {
  readonly pass: number;
  readonly fail: number;
  readonly error: number;
  readonly timeout: number;
  /** Latency samples (pass and fail results). */
  readonly latN: number;
  readonly latMinMs: number | null;
  readonly latSumMs: number;
  readonly latMaxMs: number | null;
  /** Sample counts per `LATENCY_BOUNDS_MS` bucket (src/model/latency-histogram.ts), `LATENCY_BUCKETS` entries. */
  readonly buckets: readonly number[];
}
