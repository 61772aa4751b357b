import { type LinesBatch, outcomeBatch } from '../engine/outcome-batch.js';
import type { Result } from '../engine/result.js';
import { JsonBytes } from './json-bytes.js';

/**
 * The line of a result that arrived as JSONL text (from a thread of the thread executor), reused rather than
 * serialised again. Results are never changed once made, so the line stays theirs. A non-enumerable symbol
 * (JSON, spreads and clones skip it: a copy made to change a field never carries the old line), which costs
 * a tenth of a WeakMap's entry.
 */
const LINE = Symbol('jsonl line');
type WithLine = Result & { [LINE]?: string };

/** A result's JSONL line, newline included: the one way a result becomes a line. */
export function resultLine(result: Result): string {
  return (result as WithLine)[LINE] ?? `${JSON.stringify(result)}\n`;
}

/**
 * The bytes of the row or batch being made: `resultLineBytes` and `linesBatch` are synchronous and each leaves
 * it empty, so one writer serves both.
 */
const bytes = new JsonBytes();

/** Appends `result`'s line (`resultLine`'s, as UTF-8) to `bytes`: the line it came with, else made here. */
function appendLine(result: Result): void {
  const line = (result as WithLine)[LINE];
  if (line !== undefined) bytes.text(line);
  else bytes.line(result);
}

/**
 * `resultLine` as UTF-8 bytes, made by `JsonBytes` as a thread's batches are: a view valid until the next call
 * (write it at once). The main thread's rows no longer go through `JSON.stringify` and a string copy.
 */
export function resultLineBytes(result: Result): Uint8Array {
  appendLine(result);
  return bytes.view();
}

/**
 * Results as one JSON array text whose elements are their JSONL lines (`[line,line,...]`: JSON allows the
 * newline after each element), with each line's end offset: a thread sends this instead of the objects
 * (cloning objects cost both threads more than serialising them once), and main parses it once per batch.
 */
export interface ResultLines {
  readonly json: string;
  /** End offset (exclusive) in `json` of each line; line i starts one past the end of line i - 1 (or `[`). */
  readonly ends: number[];
}

export function encodeResultLines(results: readonly Result[]): ResultLines {
  const parts: string[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const result of results) {
    const line = resultLine(result);
    at += line.length + 1; // the `[` or `,` before it
    parts.push(line);
    ends.push(at);
  }
  return { json: `[${parts.join(',')}]`, ends };
}

/** The results of `encodeResultLines`, each remembering its line. */
export function decodeResultLines({ json, ends }: ResultLines): Result[] {
  const results = JSON.parse(json) as Result[];
  let start = 1;
  for (let i = 0; i < results.length; i++) {
    const end = ends[i]!;
    Object.defineProperty(results[i]!, LINE, { value: json.slice(start, end) });
    start = end + 1;
  }
  return results;
}

const NO_LINES = new Uint8Array(0);

/**
 * Results as a `LinesBatch`: their lines (or none: `withLines` false) and their outcomes. The lines' bytes
 * have a buffer of their own, never a pool's, so they can be transferred to another thread: `spare` (a
 * buffer given back) when they fit in it. Each line is `resultLine`'s, written as UTF-8 bytes directly
 * (`JsonBytes`).
 */
export function linesBatch(results: readonly Result[], withLines: boolean, spare?: ArrayBuffer): LinesBatch {
  let lines = NO_LINES;
  if (withLines) {
    try {
      for (const result of results) appendLine(result);
    } catch (err) {
      bytes.discard(); // a result JSON cannot write (a cycle, a BigInt) must not leave half a batch
      throw err;
    }
    lines = bytes.take(spare);
  }
  return { lines, outcomes: outcomeBatch(results) };
}
