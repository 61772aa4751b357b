import { reasonOf } from '../engine/reason.js';
import type { Result } from '../engine/result.js';
import { resultLine, resultLineBytes } from './result-line.js';

/** A terminal output format: an optional header, one chunk of text per result, an optional footer. */
export interface ResultFormat {
  header?(): string;
  line(result: Result): string;
  /** `line` as UTF-8 bytes, valid until the next call, where the format makes them cheaper than the string. */
  bytes?(result: Result): Uint8Array;
}

export const jsonlFormat: ResultFormat = {
  line: resultLine,
  bytes: resultLineBytes,
};

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const CSV_COLUMNS = [
  'run',
  'target',
  'port',
  'name',
  'labels',
  'check',
  'status',
  'durationMs',
  'startedAt',
  'attempts',
  'message',
  'reason',
  'data',
] as const;

export const csvFormat: ResultFormat = {
  header: () => `${CSV_COLUMNS.join(',')}\n`,
  line: (r) =>
    `${[
      r.run,
      r.target,
      r.port === null ? '' : String(r.port),
      r.name ?? '',
      Object.entries(r.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(';'),
      r.check,
      r.status,
      String(r.durationMs),
      r.startedAt,
      String(r.attempts),
      r.message,
      reasonOf(r),
      JSON.stringify(r.data),
    ]
      .map(csvField)
      .join(',')}\n`,
};

const COLOURS: Record<Result['status'], string> = {
  pass: '\u001b[32m',
  fail: '\u001b[33m',
  error: '\u001b[31m',
  timeout: '\u001b[35m',
  cancelled: '\u001b[90m',
};

/** Fixed-width streaming table: results are printed as they complete, so widths cannot be measured. */
export function tableFormat(colour: boolean): ResultFormat {
  const paint = (r: Result, text: string) => (colour ? `${COLOURS[r.status]}${text}\u001b[0m` : text);
  return {
    header: () =>
      `${'STATUS'.padEnd(9)} ${'TARGET'.padEnd(39)} ${'PORT'.padStart(5)} ${'MS'.padStart(8)}  MESSAGE\n`,
    line: (r) => {
      const target = r.name && r.name !== r.target ? `${r.target} (${r.name})` : r.target;
      return `${paint(r, r.status.padEnd(9))} ${target.padEnd(39)} ${String(r.port ?? '').padStart(5)} ${r.durationMs
        .toFixed(1)
        .padStart(8)}  ${r.message}\n`;
    },
  };
}
