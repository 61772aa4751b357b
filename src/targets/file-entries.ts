import { open } from 'node:fs/promises';
import { FleetprobeError, TargetParseError } from '../core/errors.js';
import { BadEntry } from './bad-entry.js';
import { createLineParser, type TargetFileFormat } from './formats.js';
import { readLineChunks } from './line-chunks.js';
import type { ParsedSpec } from './spec.js';

/** A targets file to read: where it is, how errors name it, and its format. */
export interface TargetFile {
  readonly path: string;
  /** The name used in errors (`hosts.csv` in `hosts.csv:42: ...`; `stdin` for `-`). */
  readonly display: string;
  readonly format: TargetFileFormat;
}

/**
 * Streams the entries of a targets file, one array per chunk of lines read (the file is never held in
 * memory; a batch per chunk keeps the per-line cost of millions of lines low). A bad line throws
 * `TargetParseError('<display>:<line>', reason)`; a file that cannot be opened or read throws
 * `TargetParseError('<display>', reason)` with the system error as `cause`. Breaking out of the loop closes
 * the file before `return()` settles. A UTF-8 BOM on the first line is ignored.
 */
export async function* readTargetFile(
  file: TargetFile,
  signal?: AbortSignal,
): AsyncGenerator<ParsedSpec[], void, undefined> {
  if (signal?.aborted) throw signal.reason;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file.path, 'r');
  } catch (err) {
    throw new TargetParseError(file.display, `cannot open: ${(err as Error).message}`, { cause: err });
  }
  const parse = createLineParser(file.format);
  let lineNo = 0;
  try {
    for await (const lines of readLineChunks(handle)) {
      if (signal?.aborted) throw signal.reason;
      if (lineNo === 0 && lines[0]!.charCodeAt(0) === 0xfeff) lines[0] = lines[0]!.slice(1);
      const entries: ParsedSpec[] = [];
      for (let i = 0; i < lines.length; i++) {
        let entry: ParsedSpec | undefined;
        try {
          entry = parse(lines[i]!);
        } catch (err) {
          if (err instanceof BadEntry)
            throw new TargetParseError(`${file.display}:${lineNo + i + 1}`, err.message);
          throw err;
        }
        if (entry !== undefined) entries.push(entry);
      }
      lineNo += lines.length;
      if (entries.length > 0) yield entries;
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
