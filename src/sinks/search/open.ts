import type { BaseConnection } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import { SearchIndexSink } from '../search-index-sink.js';
import { createSearchClient, parseSearchIndexUrl, type SearchIndexTarget } from './client.js';
import { DEFAULT_RESULTS_INDEX, IndexNamePattern } from './index-name.js';

/** A validated search-index destination: where, and the index name pattern. */
export interface SearchIndexConfig {
  readonly target: SearchIndexTarget;
  readonly index: IndexNamePattern;
}

/**
 * `--search-index <url>` and `--search-index-name <pattern>` (default `fleetprobe-results-YYYY.MM.DD`), with
 * credentials from the URL or `authEnv` (env FLEETPROBE_SEARCH_AUTH). Throws `UsageError` (exit 2).
 */
export function searchIndexConfig(
  url: string,
  indexName: string | undefined,
  authEnv: string | undefined,
): SearchIndexConfig {
  return {
    target: parseSearchIndexUrl(url, authEnv),
    index: new IndexNamePattern(indexName ?? DEFAULT_RESULTS_INDEX),
  };
}

/** A sink for `config` with its own client (closed by `sink.close()`) and the sink's defaults. */
export function openSearchIndexSink(
  config: SearchIndexConfig,
  opts: { log?: Logger; Connection?: typeof BaseConnection } = {},
): SearchIndexSink {
  return new SearchIndexSink({
    client: createSearchClient(config.target, { Connection: opts.Connection }),
    ownsClient: true,
    index: config.index,
    log: opts.log,
  });
}
