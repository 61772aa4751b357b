import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { raceAbort, throwIfAborted } from '../../core/deadline.js';
import { readBoundedFile } from '../../core/read-bounded.js';
import { coalescedStat } from './coalesced-stat.js';
import { KnownHosts } from './known-hosts.js';

/** Largest known_hosts file read, in bytes (~500k host lines). */
export const KNOWN_HOSTS_MAX_BYTES = 64 * 1024 * 1024;

interface Cached {
  mtimeMs: number;
  size: number;
  hosts: Promise<KnownHosts>;
}

/**
 * Loads known_hosts files once and keeps them while their mtime and size are unchanged (one `stat` per
 * lookup), and appends `accept-new` lines through a per-file promise chain so concurrent checks never
 * interleave writes or add the same line twice.
 *
 * A missing file reads as empty (so `strict` refuses every host, `accept-new` creates it, mode 0600).
 */
export class KnownHostsStore {
  readonly #files = new Map<string, Cached>();
  readonly #chains = new Map<string, Promise<void>>();

  /**
   * The parsed file at `path`; reparsed only when it changed on disk. Read with `readBoundedFile` (a
   * regular file of at most `KNOWN_HOSTS_MAX_BYTES`, else FP_FILE_NOT_REGULAR / FP_FILE_TOO_LARGE), once
   * for every caller asking meanwhile; each caller stops waiting when its own `signal` aborts.
   */
  async load(path: string, signal: AbortSignal): Promise<KnownHosts> {
    throwIfAborted(signal);
    let mtimeMs = -1;
    let size = -1;
    try {
      const st = await coalescedStat(path);
      mtimeMs = st.mtimeMs;
      size = st.size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const cached = this.#files.get(path);
    if (cached && cached.mtimeMs === mtimeMs && cached.size === size) return raceAbort(cached.hosts, signal);
    const hosts =
      size < 0
        ? Promise.resolve(new KnownHosts())
        : readBoundedFile(path, { maxBytes: KNOWN_HOSTS_MAX_BYTES }).then((buf) =>
            KnownHosts.parse(buf.toString('utf8')),
          );
    const entry: Cached = { mtimeMs, size, hosts };
    this.#files.set(path, entry);
    // A failed read must not stay cached; the caller still sees the rejection.
    hosts.catch(() => {
      if (this.#files.get(path) === entry) this.#files.delete(path);
    });
    return raceAbort(hosts, signal);
  }

  /**
   * Appends `line` to `path` (creating it and its directory) unless `isPresent()` says the key is already
   * listed, and records it in `hosts` (the cached parse of that file). Serialised per file.
   * Not abortable once started: one small append.
   */
  append(path: string, line: string, hosts: KnownHosts, isPresent: () => boolean): Promise<void> {
    const prev = this.#chains.get(path) ?? Promise.resolve();
    const next = prev.then(async () => {
      if (isPresent()) return;
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const fh = await open(path, 'a+', 0o600);
      try {
        const st = await fh.stat();
        let prefix = '';
        if (st.size > 0) {
          const last = Buffer.alloc(1);
          await fh.read(last, 0, 1, st.size - 1);
          if (last[0] !== 0x0a) prefix = '\n';
        }
        await fh.appendFile(`${prefix}${line}\n`);
        const after = await fh.stat();
        hosts.addLine(line);
        const cached = this.#files.get(path);
        // Our own write should not force a reparse of the whole file.
        if (cached) {
          cached.mtimeMs = after.mtimeMs;
          cached.size = after.size;
        } else {
          this.#files.set(path, { mtimeMs: after.mtimeMs, size: after.size, hosts: Promise.resolve(hosts) });
        }
      } finally {
        await fh.close();
      }
    });
    const tail = next.catch(() => {});
    this.#chains.set(path, tail);
    void tail.then(() => {
      if (this.#chains.get(path) === tail) this.#chains.delete(path);
    });
    return next;
  }
}

/** The process-wide store the `ssh` check uses. */
export const knownHostsStore = new KnownHostsStore();
