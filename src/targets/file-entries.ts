import { open } from 'node:fs/promises';
import { FleetprobeError, TargetParseError } from '../core/errors.js';
import { BadEntry } from './bad-entry.js';
import { createLineParser, type LineParser, plainNameOf, type TargetFileFormat } from './formats.js';
import { readLineChunks } from './line-chunks.js';
import { type ParsedSpec, specCount } from './spec.js';
import type { FileEntry } from './target-batches.js';

/** A targets file to read: where it is, how errors name it, and its format. */
export interface TargetFile {
  readonly path: string;
  /** The name used in errors (`hosts.csv` in `hosts.csv:42: ...`; `stdin` for `-`). */
  readonly display: string;
  readonly format: TargetFileFormat;
}

/**
 * Streams the entries of a targets file, one array per chunk of lines read (the file is never held in
 * memory; a batch per chunk keeps the per-line cost of millions of lines low). Consecutive lines of a text
 * file that are plain hostnames (`plainNameOf`) are one `NameTargets` entry: no objects per name. A bad line throws
 * `TargetParseError('<display>:<line>', reason)`; a file that cannot be opened or read throws
 * `TargetParseError('<display>', reason)` with the system error as `cause`. Breaking out of the loop closes
 * the file before `return()` settles. A UTF-8 BOM on the first line is ignored.
 */
export async function* readTargetFile(
  file: TargetFile,
  signal?: AbortSignal,
): AsyncGenerator<FileEntry[], void, undefined> {
  const parse = createLineParser(file.format);
  const txt = file.format === 'txt';
  for await (const { lines, lineNo } of fileLines(file, signal)) {
    const entries: FileEntry[] = [];
    let names: string[] | undefined;
    for (let i = 0; i < lines.length; i++) {
      const name = txt ? plainNameOf(lines[i]!) : undefined;
      if (name !== undefined) {
        if (names === undefined) {
          names = [];
          entries.push({ kind: 'names', names });
        }
        names.push(name);
        continue;
      }
      const entry = parseLine(parse, lines[i]!, file, lineNo + i);
      if (entry === undefined) continue;
      names = undefined;
      entries.push(entry);
    }
    if (entries.length > 0) yield entries;
  }
}

/**
 * The number of targets of a targets file, every line checked as `readTargetFile` checks it (same errors),
 * none kept: a plain hostname line of a text file (`plainNameOf`) is counted without being parsed.
 */
export async function countTargetFile(file: TargetFile, signal?: AbortSignal): Promise<bigint> {
  const parse = createLineParser(file.format);
  const txt = file.format === 'txt';
  let count = 0n;
  let singles = 0; // a number: a BigInt addition per line would cost more than the check
  for await (const { lines, lineNo } of fileLines(file, signal)) {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      if (txt && plainNameOf(line) !== undefined) {
        singles++;
        continue;
      }
      const entry = parseLine(parse, line, file, lineNo + i);
      if (entry === undefined) continue;
      if (entry.kind === 'target') singles++;
      else count += specCount(entry);
    }
  }
  return count + BigInt(singles);
}

function parseLine(parse: LineParser, line: string, file: TargetFile, index: number): ParsedSpec | undefined {
  try {
    return parse(line);
  } catch (err) {
    if (err instanceof BadEntry) throw new TargetParseError(`${file.display}:${index + 1}`, err.message);
    throw err;
  }
}

/** The file's lines, a chunk at a time, with the 0-based number of each chunk's first line. */
async function* fileLines(
  file: TargetFile,
  signal: AbortSignal | undefined,
): AsyncGenerator<{ lines: string[]; lineNo: number }, void, undefined> {
  if (signal?.aborted) throw signal.reason;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file.path, 'r');
  } catch (err) {
    throw new TargetParseError(file.display, `cannot open: ${(err as Error).message}`, { cause: err });
  }
  let lineNo = 0;
  try {
    for await (const lines of readLineChunks(handle)) {
      if (signal?.aborted) throw signal.reason;
      if (lineNo === 0 && lines[0]!.charCodeAt(0) === 0xfeff) lines[0] = lines[0]!.slice(1);
      yield { lines, lineNo };
      lineNo += lines.length;
    }
    if (signal?.aborted) throw signal.reason;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && err !== signal?.reason && !(err instanceof FleetprobeError)) {
      throw new TargetParseError(file.display, `cannot read: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  } finally {
    await handle.close();
  }
}
