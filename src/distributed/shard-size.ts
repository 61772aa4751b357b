/** Targets per shard when a run's total is not known in advance. */
export const UNKNOWN_TOTAL_SHARD_SIZE = 250;

/** The most targets a chosen shard holds. */
export const MAX_CHOSEN_SHARD_SIZE = 1000;

/**
 * Targets per shard for a run of `total` targets over `workers` (workers or threads; fewer than 1 counts as 1):
 * about eight shards per worker, so a slow worker holds up little of the run, clamped to
 * `minimum..MAX_CHOSEN_SHARD_SIZE`; `UNKNOWN_TOTAL_SHARD_SIZE` when the total is unknown.
 */
export function chooseShardSize(total: number | undefined, workers: number, minimum: number): number {
  if (total === undefined) return UNKNOWN_TOTAL_SHARD_SIZE;
  const perWorker = Math.ceil(total / (8 * Math.max(1, workers)));
  return Math.max(minimum, Math.min(MAX_CHOSEN_SHARD_SIZE, perWorker));
}
