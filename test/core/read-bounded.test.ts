import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityCache } from '../../src/checks/ssh/identity.js';
import { KnownHostsStore } from '../../src/checks/ssh/known-hosts-store.js';
import { CancelledError } from '../../src/core/errors.js';
import {
  FileNotRegularError,
  FileTooLargeError,
  readBoundedFile,
  readFailureReason,
} from '../../src/core/read-bounded.js';

let dir: string;
let fifo: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fp-read-bounded-'));
  fifo = join(dir, 'pipe');
  execFileSync('mkfifo', [fifo]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readBoundedFile', () => {
  it('reads a regular file whole', async () => {
    const file = join(dir, 'small');
    await writeFile(file, 'hello');
    expect((await readBoundedFile(file, { maxBytes: 5 })).toString()).toBe('hello');
  });

  it('refuses a FIFO without a writer at once (it never blocks a pool thread)', async () => {
    const err = await readBoundedFile(fifo, { maxBytes: 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileNotRegularError);
    expect(err).toMatchObject({ code: 'FP_FILE_NOT_REGULAR', path: fifo });
    expect(readFailureReason(err)).toBe('not a regular file (a FIFO)');
  });

  it('refuses /dev/zero and a directory', async () => {
    await expect(readBoundedFile('/dev/zero', { maxBytes: 1024 })).rejects.toMatchObject({
      code: 'FP_FILE_NOT_REGULAR',
      message: '/dev/zero: not a regular file (a character device)',
    });
    const sub = join(dir, 'sub');
    await mkdir(sub);
    await expect(readBoundedFile(sub, { maxBytes: 1024 })).rejects.toMatchObject({
      code: 'FP_FILE_NOT_REGULAR',
    });
  });

  it('refuses a file over the cap', async () => {
    const file = join(dir, 'big');
    await writeFile(file, Buffer.alloc(1025));
    const err = await readBoundedFile(file, { maxBytes: 1024 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FileTooLargeError);
    expect(readFailureReason(err)).toBe('larger than 1024 bytes');
  });

  it('rejects with the signal reason, before and between chunks', async () => {
    const file = join(dir, 'chunks');
    await writeFile(file, Buffer.alloc(300 * 1024));
    const before = new AbortController();
    const reason = new CancelledError('stop');
    before.abort(reason);
    await expect(readBoundedFile(file, { maxBytes: 1 << 20, signal: before.signal })).rejects.toBe(reason);
    // Aborted once the read has started (the file is being opened): no chunk is read after it.
    const during = new AbortController();
    const reading = readBoundedFile(file, { maxBytes: 1 << 20, signal: during.signal });
    during.abort(reason);
    await expect(reading).rejects.toBe(reason);
  });

  it('a missing file rejects with the fs error (ENOENT)', async () => {
    const err = await readBoundedFile(join(dir, 'none'), { maxBytes: 10 }).catch((e: unknown) => e);
    expect(readFailureReason(err)).toBe('ENOENT');
  });
});

describe('the ssh identity and known_hosts readers go through readBoundedFile', () => {
  it('an identity that is a FIFO is an SshIdentityError at once', async () => {
    await expect(
      new IdentityCache().load(fifo, undefined, new AbortController().signal),
    ).rejects.toMatchObject({
      code: 'FP_SSH_IDENTITY',
      message: `identity ${fifo}: cannot read (not a regular file (a FIFO))`,
    });
  });

  it('a known_hosts file that is a FIFO or /dev/zero is refused at once', async () => {
    const store = new KnownHostsStore();
    const signal = new AbortController().signal;
    await expect(store.load(fifo, signal)).rejects.toMatchObject({ code: 'FP_FILE_NOT_REGULAR' });
    await expect(store.load('/dev/zero', signal)).rejects.toMatchObject({ code: 'FP_FILE_NOT_REGULAR' });
  });
});
