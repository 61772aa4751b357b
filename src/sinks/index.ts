export { csvFormat, jsonlFormat, type ResultFormat, tableFormat } from './formats.js';
export { TextOutput } from './output.js';
