export { csvFormat, jsonlFormat, type ResultFormat, tableFormat } from './formats.js';
export { TextOutput } from './output.js';
export type { DocumentProblem } from './search/bulk-writer.js';
export { createSearchClient, parseSearchIndexUrl, type SearchIndexTarget } from './search/client.js';
export { resultDocument, type SearchDocument } from './search/document.js';
export { DEFAULT_RESULTS_INDEX, IndexNamePattern } from './search/index-name.js';
export { openSearchIndexSink, type SearchIndexConfig, searchIndexConfig } from './search/open.js';
export {
  describeSearchIndexStats,
  notIndexed,
  SearchIndexSink,
  type SearchIndexSinkOptions,
  type SearchIndexStats,
} from './search-index-sink.js';
export { type StoreResultsOptions, StoreWriteError, storeResults } from './store-sink.js';
