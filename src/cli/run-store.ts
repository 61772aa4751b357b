import type { Result } from '../engine/result.js';
import { emptyCounts } from '../engine/result.js';
import { storeResults } from '../sinks/store-sink.js';
import { openStore, type Store } from '../store/store.js';

export interface RunDescription {
  check: string;
  args: unknown;
  specs: readonly string[];
  options: unknown;
  total: number | undefined;
}

/**
 * `fleetprobe run --db <url>`: records the run, stores its results as they flow to the terminal, and
 * closes the run row with its final state and counts. Results that could not be stored make the
 * stream throw `StoreWriteError` at the end (never a silent loss); the run is then marked `failed`.
 */
export async function openRunStoreSink(url: string) {
  const store: Store = await openStore(url);
  return {
    async *pipe(
      results: AsyncIterable<Result>,
      runId: string,
      run: RunDescription,
      cancelled: () => boolean,
    ) {
      const counts = emptyCounts();
      const now = new Date().toISOString();
      await store.createRun({
        id: runId,
        check: run.check,
        args: run.args,
        targets: { specs: run.specs },
        options: run.options,
        state: 'running',
        total: run.total ?? null,
        counts,
        createdAt: now,
        startedAt: now,
        finishedAt: null,
        error: null,
      });
      let error: unknown;
      try {
        yield* storeResults(store, results, {
          onCounts: (c) => {
            for (const [status, n] of Object.entries(c)) counts[status as keyof typeof counts] += n;
          },
        });
      } catch (err) {
        error = err;
        throw err;
      } finally {
        await store.updateRun(runId, {
          state: error ? 'failed' : cancelled() ? 'cancelled' : 'done',
          counts,
          finishedAt: new Date().toISOString(),
          error: error ? String((error as Error).message ?? error) : null,
        });
      }
    },
    close: () => store.close(),
  };
}
