import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { FleetprobeError, TargetParseError } from '../core/errors.js';
import { BadEntry } from './bad-entry.js';
import { createLineParser, type TargetFileFormat } from './formats.js';
import type { ParsedSpec } from './spec.js';

/** A targets file to read: where it is, how errors name it, and its format. */
export interface TargetFile {
  readonly path: string;
  /** The name used in errors (`hosts.csv` in `hosts.csv:42: ...`; `stdin` for `-`). */
  readonly display: string;
  readonly format: TargetFileFormat;
}

/**
 * Streams the entries of a targets file, one line at a time (node:readline; the file is never held in
 * memory). A bad line throws `TargetParseError('<display>:<line>', reason)`; a file that cannot be opened
 * or read throws `TargetParseError('<display>', reason)` with the system error as `cause`. Breaking out
 * of the loop closes the file before `return()` settles. A UTF-8 BOM on the first line is ignored.
 */
export async function* readTargetFile(
  file: TargetFile,
  signal?: AbortSignal,
): AsyncGenerator<ParsedSpec, void, undefined> {
  if (signal?.aborted) throw signal.reason;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file.path, 'r');
  } catch (err) {
    throw new TargetParseError(file.display, `cannot open: ${(err as Error).message}`, { cause: err });
  }
  // autoClose off: the handle is closed (and awaited) in `finally`, so a break leaves no fd behind.
  const stream = handle.createReadStream({ autoClose: false, highWaterMark: 256 * 1024 });
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  const parse = createLineParser(file.format);
  let lineNo = 0;
  try {
    for await (const raw of lines) {
      lineNo++;
      if (signal?.aborted) throw signal.reason;
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      let entry: ParsedSpec | undefined;
      try {
        entry = parse(line);
      } catch (err) {
        if (err instanceof BadEntry) throw new TargetParseError(`${file.display}:${lineNo}`, err.message);
        throw err;
      }
      if (entry !== undefined) yield entry;
    }
    if (signal?.aborted) throw signal.reason;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && err !== signal?.reason && !(err instanceof FleetprobeError)) {
      throw new TargetParseError(file.display, `cannot read: ${(err as Error).message}`, { cause: err });
    }
    throw err;
  } finally {
    lines.close();
    stream.destroy();
    await handle.close();
  }
}
