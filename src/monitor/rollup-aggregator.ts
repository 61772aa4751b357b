import type { Status } from '../engine/result.js';
import { bucketOf, LATENCY_BUCKETS } from '../model/latency-histogram.js';
import type { RollupCounts } from '../model/rollup-counts.js';

export const HOUR_MS = 3_600_000;

/** Counted results of one target in one hour, as added to the stored rollup. */
export interface RollupDelta extends RollupCounts {
  readonly slot: number;
  /** Start of the hour, ms since the epoch. */
  readonly hourMs: number;
}

const COUNTED = { pass: 0, fail: 1, error: 2, timeout: 3 } as const;
const FIELDS = 5; // 4 status counts + latency n

/** One hour's aggregates, per slot, in typed arrays. */
class HourAggregate {
  readonly counts: Uint32Array;
  readonly min: Float32Array;
  readonly max: Float32Array;
  readonly sum: Float64Array;
  readonly buckets: Uint32Array;
  readonly touched: number[] = [];
  constructor(readonly capacity: number) {
    this.counts = new Uint32Array(capacity * FIELDS);
    this.min = new Float32Array(capacity).fill(Number.POSITIVE_INFINITY);
    this.max = new Float32Array(capacity).fill(Number.NEGATIVE_INFINITY);
    this.sum = new Float64Array(capacity);
    this.buckets = new Uint32Array(capacity * LATENCY_BUCKETS);
  }
}

/**
 * Per-target hourly rollups of counted results, kept in memory and handed out as *deltas* (`drain`): the store
 * adds them to its rows, so draining every few minutes costs one upsert per active target and a crash loses at
 * most what was not drained yet. Latency (pass and fail results: the target answered) keeps min, sum, max and a
 * fixed histogram, from which p95 is estimated when read.
 */
export class RollupAggregator {
  readonly #hours = new Map<number, HourAggregate>();

  add(slot: number, status: Status, atMs: number, durationMs: number): void {
    if (status === 'cancelled') return;
    const hourMs = Math.floor(atMs / HOUR_MS) * HOUR_MS;
    let h = this.#hours.get(hourMs);
    if (!h || slot >= h.capacity) {
      const bigger = new HourAggregate(Math.max(1024, (slot + 1) * 2, h?.capacity ?? 0));
      if (h) {
        bigger.counts.set(h.counts);
        bigger.min.set(h.min);
        bigger.max.set(h.max);
        bigger.sum.set(h.sum);
        bigger.buckets.set(h.buckets);
        for (const slot of h.touched) bigger.touched.push(slot); // no spread: 250,000 arguments overflow the stack
      }
      h = bigger;
      this.#hours.set(hourMs, h);
    }
    const base = slot * FIELDS;
    let fresh = true;
    for (let f = 0; f < FIELDS; f++) if (h.counts[base + f] !== 0) fresh = false;
    if (fresh) h.touched.push(slot);
    h.counts[base + COUNTED[status]]!++;
    if (status === 'pass' || status === 'fail') {
      h.counts[base + 4]!++;
      h.sum[slot]! += durationMs;
      if (durationMs < h.min[slot]!) h.min[slot] = durationMs;
      if (durationMs > h.max[slot]!) h.max[slot] = durationMs;
      h.buckets[slot * LATENCY_BUCKETS + bucketOf(durationMs)]!++;
    }
  }

  /** Forgets a slot (its target left the monitor; the slot may be reused). */
  forget(slot: number): void {
    for (const h of this.#hours.values()) {
      if (slot >= h.capacity) continue;
      h.counts.fill(0, slot * FIELDS, (slot + 1) * FIELDS);
      h.buckets.fill(0, slot * LATENCY_BUCKETS, (slot + 1) * LATENCY_BUCKETS);
      h.sum[slot] = 0;
      h.min[slot] = Number.POSITIVE_INFINITY;
      h.max[slot] = Number.NEGATIVE_INFINITY;
    }
  }

  /** Whether there is anything to drain. */
  get empty(): boolean {
    return this.#hours.size === 0;
  }

  /** Returns every delta gathered since the last drain and starts from zero. */
  drain(): RollupDelta[] {
    const out: RollupDelta[] = [];
    for (const [hourMs, h] of this.#hours) {
      for (const slot of h.touched) {
        const base = slot * FIELDS;
        const latN = h.counts[base + 4]!;
        if (h.counts[base]! + h.counts[base + 1]! + h.counts[base + 2]! + h.counts[base + 3]! === 0) continue;
        out.push({
          slot,
          hourMs,
          pass: h.counts[base]!,
          fail: h.counts[base + 1]!,
          error: h.counts[base + 2]!,
          timeout: h.counts[base + 3]!,
          latN,
          latMinMs: latN === 0 ? null : h.min[slot]!,
          latSumMs: h.sum[slot]!,
          latMaxMs: latN === 0 ? null : h.max[slot]!,
          buckets: Array.from(h.buckets.subarray(slot * LATENCY_BUCKETS, (slot + 1) * LATENCY_BUCKETS)),
        });
        h.counts.fill(0, base, base + FIELDS); // a slot listed twice (forgotten, then reused) is emitted once
      }
    }
    this.#hours.clear();
    return out;
  }
}
