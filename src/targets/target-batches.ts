import { EMPTY_LABELS } from './labels.js';
import type { ParsedSpec } from './spec.js';
import type { Target } from './target.js';

/**
 * Targets given by name alone (no address, port or labels: the lines of a bulk DNS run's file), kept as
 * their (lowercase) names until a consumer needs objects: the shard cutter puts names on the wire as they are.
 */
export interface NameTargets {
  readonly kind: 'names';
  readonly names: readonly string[];
}

/** The target of a name given alone. */
export function nameTarget(name: string): Target {
  return { labels: EMPTY_LABELS, name };
}

/** An entry of a targets file: a parsed spec, or a run of lines that are plain hostnames. */
export type FileEntry = ParsedSpec | NameTargets;

/** A batch of targets: objects, or names alone. */
export type TargetBatch = readonly Target[] | NameTargets;

/**
 * A stream of targets that can also hand them over a batch at a time: a consumer of millions of targets
 * (the shard cutter) then pays one `await` per batch instead of one per target. Same targets, same order.
 */
export const TARGET_BATCHES: unique symbol = Symbol('fleetprobe.targetBatches');

export interface BatchedTargets extends AsyncIterable<Target> {
  /** A fresh iteration in batches; use it instead of, never together with, iterating the stream itself. */
  [TARGET_BATCHES](): AsyncGenerator<TargetBatch, void, undefined>;
}

/** The batches of `targets`: its own when it offers them, else one target per batch. */
export async function* targetBatches(
  targets: AsyncIterable<Target>,
): AsyncGenerator<TargetBatch, void, undefined> {
  const own = (targets as Partial<BatchedTargets>)[TARGET_BATCHES];
  if (own !== undefined) {
    yield* own.call(targets);
    return;
  }
  for await (const target of targets) yield [target];
}

/** Targets per batch when CIDR blocks are expanded (a block is never materialised whole). */
const BLOCK_BATCH = 4096;

/** The targets of `entries` in order, in batches: names and single targets as they are, blocks expanded lazily. */
export function* entryBatches(entries: readonly FileEntry[]): Generator<TargetBatch, void, undefined> {
  let out: Target[] = [];
  for (const entry of entries) {
    if (entry.kind === 'names') {
      if (out.length > 0) yield out;
      out = [];
      yield entry;
    } else if (entry.kind === 'target') {
      out.push(entry.target);
    } else {
      for (const target of entry.expand()) {
        out.push(target);
        if (out.length >= BLOCK_BATCH) {
          yield out;
          out = [];
        }
      }
    }
  }
  if (out.length > 0) yield out;
}

/** The targets of a batch as objects. */
export function* batchTargets(batch: TargetBatch): Generator<Target, void, undefined> {
  if ('kind' in batch) for (const name of batch.names) yield nameTarget(name);
  else yield* batch;
}
