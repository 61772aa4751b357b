import type { LinesBatch } from '../engine/outcome-batch.js';
import type { RunProgress } from '../engine/types.js';
import type { ResultLines } from '../sinks/result-line.js';
import type { WireTarget } from './messages.js';
import type { RateGrant } from './rate.js';
import type { ShardHead } from './shard-runner.js';

/**
 * The messages between the thread executor (main thread) and its worker threads, over each thread's
 * MessagePort. Results travel as their JSONL text (`ResultLines`): serialising a result once in its thread
 * costs less than cloning the object over and serialising it again in main, where the line is written as is.
 *
 * A run on a thread is one engine (`runShard`) whose targets are the shards main sends it, in order: the tail
 * of one shard overlaps the head of the next, and the thread's in-flight limit and adaptive concurrency hold
 * over all of them. Main sends shards while the thread has at most one shard's worth of targets without a
 * result; the thread sends result batches and waits for an `ack` when `BATCH_CREDIT` are unacknowledged (main acks a
 * batch once its consumer has taken it), so a slow consumer slows the threads down instead of piling results up.
 */

/**
 * How a run's results come back: `objects`, as `ResultLines` main parses into results; `lines`, for a
 * consumer with a `BatchSink` that writes lines as they are, as `LinesBatch`es (text and outcomes: main parses
 * nothing); `outcomes`, the same without the text (a sink that writes no lines).
 */
export type ResultForm = 'objects' | 'lines' | 'outcomes';

export type ToThread =
  | {
      readonly t: 'open';
      readonly runId: string;
      /**
       * Its `options.concurrency` is this thread's in-flight limit (the run's concurrency split over its
       * threads); with `options.ratePerSec`, starts wait for `grant`s from main, which holds the run's one bucket.
       */
      readonly head: ShardHead;
      readonly form: ResultForm;
    }
  | { readonly t: 'shard'; readonly runId: string; readonly targets: WireTarget[] }
  /** No more shards of this run for this thread: its engine ends once they have results. */
  | { readonly t: 'end'; readonly runId: string }
  /** Cancel: the rest of the run's targets here yield `cancelled` results (still sent). */
  | { readonly t: 'cancel'; readonly runId: string }
  /** The consumer went away: abort and send nothing more for this run. */
  | { readonly t: 'drop'; readonly runId: string }
  /**
   * A batch was taken. `lines`: the buffer of its lines, given back (transferred) once main's sink is done with it, for
   * the thread to encode a later batch into: no buffer per batch on either side, so main's heap never counts
   * megabytes of dead line buffers towards a full GC.
   */
  | { readonly t: 'ack'; readonly runId: string; readonly lines?: ArrayBuffer }
  | { readonly t: 'grant'; readonly runId: string; readonly id: number; readonly grant: RateGrant };

export type FromThread =
  | {
      readonly t: 'results';
      readonly runId: string;
      /** `ResultLines` for a run of form `objects`, else a `LinesBatch`. */
      readonly results: ResultLines | LinesBatch;
      /** The last batch of this run on this thread. */
      readonly final: boolean;
      readonly progress: RunProgress | undefined;
    }
  /** Every ~250 ms while runs are live: their progress, for the progress line when no batch flows. */
  | { readonly t: 'progress'; readonly runId: string; readonly progress: RunProgress }
  | { readonly t: 'grant?'; readonly runId: string; readonly id: number };

/** Passed to each thread at start. */
export interface ThreadData {
  /** pino level of the thread's log (stderr). */
  readonly logLevel: string;
  /** `--resolver` (ip[:port]) for targets given by name; absent: the system resolver. */
  readonly resolver?: string;
}

/** Results per batch and the longest a partial batch waits. */
export const BATCH_MAX = 100;
export const BATCH_DELAY_MS = 50;
/**
 * Unacknowledged batches a thread may have per run. With main's own lane, main acks between its own checks: at 2,
 * a worker thread sat idle waiting for acks (tcp over a /15 on 2 lanes: the worker busy 67% of the wall time at
 * 2, 79% at 8). Alternated, 3 rounds (2026-12-01): 2 7.07 s, 4 6.85, 8 6.28, 16 6.67 (noisy). At most 800
 * results per lane wait for the consumer.
 */
export const BATCH_CREDIT = 8;
export const PROGRESS_EVERY_MS = 250;
