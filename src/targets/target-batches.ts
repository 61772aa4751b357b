import type { ParsedSpec } from './spec.js';
import type { Target } from './target.js';

/**
 * A stream of targets that can also hand them over an array at a time: a consumer of millions of targets
 * (the shard cutter) then pays one `await` per batch instead of one per target. Same targets, same order.
 */
export const TARGET_BATCHES: unique symbol = Symbol('fleetprobe.targetBatches');

export interface BatchedTargets extends AsyncIterable<Target> {
  /** A fresh iteration in batches; use it instead of, never together with, iterating the stream itself. */
  [TARGET_BATCHES](): AsyncGenerator<readonly Target[], void, undefined>;
}

/** The batches of `targets`: its own when it offers them, else one target per batch. */
export async function* targetBatches(
  targets: AsyncIterable<Target>,
): AsyncGenerator<readonly Target[], void, undefined> {
  const own = (targets as Partial<BatchedTargets>)[TARGET_BATCHES];
  if (own !== undefined) {
    yield* own.call(targets);
    return;
  }
  for await (const target of targets) yield [target];
}

/** Targets per batch when CIDR blocks are expanded (a block is never materialised whole). */
const BLOCK_BATCH = 4096;

/** The targets of `specs` in order, in batches: single targets as they are, blocks expanded lazily. */
export function* specBatches(specs: readonly ParsedSpec[]): Generator<Target[], void, undefined> {
  let out: Target[] = [];
  for (const spec of specs) {
    if (spec.kind === 'target') {
      out.push(spec.target);
      continue;
    }
    for (const target of spec.expand()) {
      out.push(target);
      if (out.length >= BLOCK_BATCH) {
        yield out;
        out = [];
      }
    }
  }
  if (out.length > 0) yield out;
}
