import type { Logger } from 'pino';
import type { Result } from '../engine/result.js';
import { resultDocument } from '../sinks/search/document.js';
import { openSearchIndexSink, type SearchIndexConfig } from '../sinks/search/open.js';
import { describeSearchIndexStats, notIndexed, type SearchIndexSink } from '../sinks/search-index-sink.js';

/** How long `run --search-index` waits, after the last result, for the index to take the rest. */
export const SEARCH_INDEX_CLOSE_TIMEOUT_MS = 30_000;

/**
 * `run --search-index`: results flow through the sink on their way to the terminal (a slow index slows the
 * run); `finish` sends the rest and says on stderr what was indexed. Loaded on demand, like `--db`.
 */
export class RunSearchIndex {
  readonly #sink: SearchIndexSink;

  constructor(config: SearchIndexConfig, log: Logger) {
    this.#sink = openSearchIndexSink(config, { log });
  }

  through(results: AsyncIterable<Result>): AsyncIterable<Result> {
    return this.#sink.through(results, resultDocument);
  }

  /**
   * Closes the sink (at most `SEARCH_INDEX_CLOSE_TIMEOUT_MS`) and writes one line on stderr. Resolves to false
   * when some result was not indexed (the line then starts `fleetprobe: warning:`). Idempotent.
   */
  async finish(stderr: NodeJS.WritableStream): Promise<boolean> {
    const stats = await this.#sink.close({ timeoutMs: SEARCH_INDEX_CLOSE_TIMEOUT_MS });
    const complete = notIndexed(stats) === 0;
    stderr.write(
      `${complete ? '' : 'fleetprobe: warning: '}search index: ${describeSearchIndexStats(stats)}\n`,
    );
    return complete;
  }

  /** For an early exit: closes without a report (idempotent with `finish`). */
  async close(): Promise<void> {
    await this.#sink.close({ timeoutMs: SEARCH_INDEX_CLOSE_TIMEOUT_MS });
  }
}
