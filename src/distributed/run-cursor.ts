import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import * as z from 'zod';
import { decodeMessage, encodeJson, shardOptionsSchema } from './messages.js';
import type { DistNames } from './names.js';

/**
 * The coordinator's resumable progress for one run, kept in the `<P>_RUNS` stream (one message per run
 * subject, like a KV bucket with history 1). Shard `seq` always holds the same targets (shards are cut
 * deterministically from the target order with the saved `shardSize`/`maxShardBytes`), so a coordinator
 * that restarts re-cuts the same shards, skips the done ones and re-publishes the rest.
 */
export const runCursorSchema = z.object({
  v: z.literal(1),
  runId: z.string(),
  check: z.string(),
  args: z.unknown(),
  options: shardOptionsSchema,
  shardSize: z.number().int().min(1),
  maxShardBytes: z.number().int().min(1024),
  /** Shards published so far: 0..nextSeq-1. */
  nextSeq: z.number().int().min(0),
  /** Every shard below `low` is done (its results stored). */
  low: z.number().int().min(0),
  /** Done shards at or above `low` (bounded by the publish window). */
  doneAbove: z.array(z.number().int().min(0)),
  /** Every target was cut into a shard: `nextSeq` is the run's shard count. */
  exhausted: z.boolean(),
  targetsPublished: z.number().int().min(0),
  updatedAt: z.number(),
});
export type RunCursor = z.infer<typeof runCursorSchema>;

/** Marks `seq` done and advances `low` over the contiguous done prefix. Mutates and returns `cursor`. */
export function markShardDone(cursor: RunCursor, seq: number): RunCursor {
  if (seq < cursor.low || cursor.doneAbove.includes(seq)) return cursor;
  cursor.doneAbove.push(seq);
  cursor.doneAbove.sort((a, b) => a - b);
  while (cursor.doneAbove[0] === cursor.low) {
    cursor.doneAbove.shift();
    cursor.low++;
  }
  return cursor;
}

export function isShardDone(cursor: RunCursor, seq: number): boolean {
  return seq < cursor.low || cursor.doneAbove.includes(seq);
}

export class RunCursorStore {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #names: DistNames;

  constructor(js: JetStreamClient, jsm: JetStreamManager, names: DistNames) {
    this.#js = js;
    this.#jsm = jsm;
    this.#names = names;
  }

  /** The saved cursor, or undefined when the run has none (never distributed, or finished). */
  async get(runId: string): Promise<RunCursor | undefined> {
    const subject = this.#names.runStateSubject(runId);
    const msg = await this.#jsm.streams
      .getMessage(this.#names.runsStream, { last_by_subj: subject })
      .catch(() => null);
    if (!msg) return undefined;
    return decodeMessage(runCursorSchema, subject, msg.data);
  }

  async put(cursor: RunCursor): Promise<void> {
    cursor.updatedAt = Date.now();
    await this.#js.publish(this.#names.runStateSubject(cursor.runId), encodeJson(cursor));
  }

  async delete(runId: string): Promise<void> {
    await this.#jsm.streams.purge(this.#names.runsStream, { filter: this.#names.runStateSubject(runId) });
  }

  /** Run ids that have a cursor (runs a restarted coordinator may resume). */
  async list(): Promise<string[]> {
    const info = await this.#jsm.streams.info(this.#names.runsStream, {
      subjects_filter: this.#names.allRunStates,
    });
    const subjects = Object.keys(info.state.subjects ?? {});
    const prefix = `${this.#names.prefix}.runs.`;
    return subjects.filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
  }
}
