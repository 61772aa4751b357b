import type { Target } from '../targets/target.js';
import { type TargetBatch, targetBatches } from '../targets/target-batches.js';
import { type WireTarget, WireTargetsBuilder } from './messages.js';

export interface CutShard {
  readonly seq: number;
  readonly count: number;
  readonly targets: WireTarget[];
}

/**
 * Cuts a target stream into shards of at most `shardSize` targets and about `maxBytes` encoded bytes,
 * lazily: one shard is held at a time. Deterministic: the same targets in the same order give the same
 * shards, which is what lets a restarted coordinator re-cut a run and skip the shards already done.
 * Not re-entrant: one consumer at a time (the publisher, then, after a cancel, the coordinator). Takes the
 * targets in batches when the stream offers them (`targetBatches`); a batch may span shards.
 */
export class ShardCutter {
  readonly #iterator: AsyncGenerator<TargetBatch, void, undefined>;
  #batch: TargetBatch = [];
  #pos = 0;
  readonly #shardSize: number;
  readonly #maxBytes: number;
  #seq = 0;
  #done = false;

  constructor(targets: AsyncIterable<Target>, shardSize: number, maxBytes: number) {
    this.#iterator = targetBatches(targets);
    this.#shardSize = shardSize;
    this.#maxBytes = maxBytes;
  }

  get exhausted(): boolean {
    return this.#done;
  }

  /** The next shard, or undefined when the targets are exhausted. */
  async next(): Promise<CutShard | undefined> {
    if (this.#done) return undefined;
    const builder = new WireTargetsBuilder();
    while (builder.count < this.#shardSize && builder.bytes < this.#maxBytes) {
      const batch = this.#batch;
      const names = 'kind' in batch ? batch.names : undefined;
      if (this.#pos === (names ?? (batch as readonly Target[])).length) {
        const r = await this.#iterator.next();
        if (r.done) {
          this.#done = true;
          break;
        }
        this.#batch = r.value;
        this.#pos = 0;
        continue; // an empty batch
      }
      if (names) builder.pushName(names[this.#pos++]!);
      else builder.push((batch as readonly Target[])[this.#pos++]!);
    }
    if (builder.count === 0) return undefined;
    return { seq: this.#seq++, count: builder.count, targets: builder.entries };
  }

  /** Closes the target source (breaking out early must release it). */
  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    this.#batch = [];
    await this.#iterator.return();
  }
}
