export { csvFormat, jsonlFormat, type ResultFormat, tableFormat } from './formats.js';
export { TextOutput } from './output.js';
export { type StoreResultsOptions, StoreWriteError, storeResults } from './store-sink.js';
