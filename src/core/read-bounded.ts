import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { FleetprobeError } from './errors.js';

/** A file a check reads that is not a regular file (a FIFO, a device, a directory, a socket). */
export class FileNotRegularError extends FleetprobeError {
  readonly path: string;
  constructor(path: string, what: string) {
    super('FP_FILE_NOT_REGULAR', `${path}: not a regular file (${what})`);
    this.path = path;
  }
}

/** A file a check reads that is larger than the reader's cap. */
export class FileTooLargeError extends FleetprobeError {
  readonly path: string;
  readonly maxBytes: number;
  constructor(path: string, maxBytes: number) {
    super('FP_FILE_TOO_LARGE', `${path}: larger than ${maxBytes} bytes`);
    this.path = path;
    this.maxBytes = maxBytes;
  }
}

/**
 * Why a read failed, in a few words without the path (callers name the file their own way):
 * "not a regular file (a FIFO)", "larger than 4194304 bytes", "ENOENT", "EACCES".
 */
export function readFailureReason(err: unknown): string {
  if (err instanceof FileNotRegularError || err instanceof FileTooLargeError)
    return err.message.slice(err.path.length + 2);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : 'error';
}

const CHUNK_BYTES = 64 * 1024;

// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, holding a libuv pool thread
// forever; with it the open returns at once and fstat refuses the FIFO. O_NOCTTY: a terminal device must
// not become the process's controlling terminal.
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;

function kindOf(st: import('node:fs').Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  return 'not a file';
}

/**
 * Reads a whole file a check needs (a CA bundle, an SSH identity, a known_hosts file), bounded three ways:
 * only a regular file (a FIFO, device or directory is refused without blocking: `FileNotRegularError`,
 * code FP_FILE_NOT_REGULAR), at most `maxBytes` bytes (checked before reading and while reading, so a
 * file growing underneath is cut too: `FileTooLargeError`, FP_FILE_TOO_LARGE), and `signal` is honoured
 * between chunks of 64 KiB (rejects with `signal.reason` unchanged). Other failures (ENOENT, EACCES) are
 * the fs errors as thrown, for the caller to word.
 */
export async function readBoundedFile(
  path: string,
  opts: { maxBytes: number; signal?: AbortSignal | undefined },
): Promise<Buffer> {
  const { maxBytes, signal } = opts;
  signal?.throwIfAborted();
  const fh = await open(path, OPEN_FLAGS);
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new FileNotRegularError(path, kindOf(st));
    if (st.size > maxBytes) throw new FileTooLargeError(path, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      signal?.throwIfAborted();
      const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new FileTooLargeError(path, maxBytes);
      chunks.push(bytesRead === buf.length ? buf : buf.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total);
  } finally {
    await fh.close();
  }
}
