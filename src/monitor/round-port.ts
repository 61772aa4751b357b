import type { Result } from '../engine/result.js';
import type { MonitorSpec } from '../model/monitor-spec.js';
import type { Target } from '../targets/target.js';

/** One round to execute, as the monitor runtime hands it to the run lifecycle. */
export interface RoundRequest {
  readonly monitor: MonitorSpec;
  /** The run id to store the round under (the run's `monitor` column links it to the monitor). */
  readonly runId: string;
  /** 1, 2, 3... per monitor, across restarts. */
  readonly seq: number;
  /**
   * The monitor's inventory, re-read for this round and already paced: target i is yielded no earlier than
   * i x spreadMs / expectedCount after the round's start. An executor that simply consumes it (with its own
   * concurrency limit) spreads the round; one that shards it (JetStream) may use `spreadMs` itself.
   */
  readonly targets: AsyncIterable<Target>;
  /** Over how long target starts are spread, in ms (part of the interval, leaving room for the timeout). */
  readonly spreadMs: number;
  /** Targets expected (the previous round's count), for progress; the actual count may differ. */
  readonly expectedCount: number;
  /** Aborted when the monitor is stopped, removed or the server shuts down: the round should end `cancelled`. */
  readonly signal: AbortSignal;
}

/** How a round's run ended; only `done` rounds count towards target states. */
export const ROUND_END_STATES = ['done', 'cancelled', 'failed', 'interrupted'] as const;
export type RoundEndState = (typeof ROUND_END_STATES)[number];

/**
 * The port through which the monitor runtime runs a round: record the run (with `monitor` set), execute it,
 * store its results, set its final state: the shared run lifecycle (`StoredRun`, whose `onStored` option takes
 * this callback as is). `onStored` is synchronous and cheap (it only buffers); call it with each batch once it
 * is stored, redelivered duplicates included (the first result per target and port counts). Resolves when the
 * run has its final state. A rejection counts as `failed`.
 */
export type RunRoundPort = (
  round: RoundRequest,
  onStored: (results: readonly Result[]) => void,
) => Promise<{ state: RoundEndState }>;
