import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FleetprobeError, TargetParseError } from '../core/errors.js';
import { countTargetFile, readTargetFile, type TargetFile } from './file-entries.js';
import { formatOfPath, type TargetFileFormat } from './formats.js';
import { EMPTY_LABELS } from './labels.js';
import { isHostname, type ParsedSpec, specCount } from './spec.js';
import { type ResolveFn, systemResolve } from './system-resolver.js';
import type { Target } from './target.js';
import {
  type BatchedTargets,
  batchTargets,
  entryBatches,
  TARGET_BATCHES,
  type TargetBatch,
} from './target-batches.js';
import { parseTargetInput, type TargetInput } from './target-input.js';

/** `targets()` was called on a source after `close()`. */
export class TargetSourceClosedError extends FleetprobeError {
  constructor() {
    super('FP_TARGETS_CLOSED', 'the target source is closed');
  }
}

export interface OpenTargetsOptions {
  /** Target specs from the command line (or target objects from the API); errors name them `argument N` (1-based). */
  readonly specs?: readonly TargetInput[];
  /** Targets files (`.txt`, `.csv`, `.jsonl`/`.ndjson`; `-` is stdin). */
  readonly files?: readonly string[];
  /** `--resolve` domains: each adds its A and AAAA records as targets named after the domain. */
  readonly resolveDomains?: readonly string[];
  /** Read for the file `-`. Default: `process.stdin`. Only touched when `-` is among `files`. */
  readonly stdin?: Readable;
  /** Resolver for `resolveDomains` (default: the system resolver; the CLI passes its DNS client with --resolver). */
  readonly resolve?: ResolveFn;
  /** Directory where stdin is spooled. Default: `os.tmpdir()`. */
  readonly tmpDir?: string;
  /** Aborts validation (rejecting with its reason) and later iterations. */
  readonly signal?: AbortSignal;
}

/**
 * Validated targets, ready to stream. Call `close()` when done (it deletes the stdin spool file); it is
 * idempotent.
 */
export interface TargetSource {
  /** Exact number of targets, or `undefined` when it exceeds 2^53 (a huge IPv6 block). Duplicates count. */
  readonly total: number | undefined;
  /**
   * Streams the targets in order: specs, then files (in the order given), then resolved domains. Files
   * are re-read and blocks re-expanded lazily on each call; breaking out closes the open file. Throws
   * `TargetSourceClosedError` after `close()`, the signal's reason when aborted. The stream also offers
   * its targets in batches (`TARGET_BATCHES`), with the same rules.
   */
  targets(signal?: AbortSignal): AsyncGenerator<Target, void, undefined> & BatchedTargets;
  close(): Promise<void>;
}

type Source =
  | { readonly kind: 'spec'; readonly spec: ParsedSpec }
  | { readonly kind: 'file'; readonly file: TargetFile }
  | { readonly kind: 'list'; readonly targets: readonly Target[] };

/**
 * Phase 1 of a run's targets: validates *everything* before any check starts. Specs are parsed; each file
 * is streamed once (line by line, nothing kept) to check every line and count its targets; stdin (`-`) is
 * spooled to a temporary file first; `--resolve` domains are resolved (in parallel). The first bad entry
 * throws `TargetParseError` (code `FP_BAD_TARGET`) whose `where` is `argument N`, `<file>:<line>`, `<file>`
 * (cannot read) or `--resolve <domain>` (DNS failed, or no A/AAAA records: an empty domain is an error,
 * since the user asked for its hosts). Aborting `signal` rejects with its reason.
 * Phase 2 is `source.targets()`, which streams them again lazily.
 */
export async function openTargets(options: OpenTargetsOptions): Promise<TargetSource> {
  const { signal } = options;
  const sources: Source[] = [];
  let spoolDir: string | undefined;
  const cleanup = async () => {
    if (spoolDir !== undefined) await rm(spoolDir, { recursive: true, force: true });
    spoolDir = undefined;
  };
  try {
    if (signal?.aborted) throw signal.reason;
    let count = 0n;
    (options.specs ?? []).forEach((input, i) => {
      const spec = parseTargetInput(input, `argument ${i + 1}`);
      count += specCount(spec);
      sources.push({ kind: 'spec', spec });
    });
    let stdinFile: TargetFile | undefined;
    for (const path of options.files ?? []) {
      let file: TargetFile;
      if (path === '-') {
        if (stdinFile === undefined) {
          spoolDir = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'fleetprobe-stdin-'));
          stdinFile = await spoolStdin(options.stdin ?? process.stdin, join(spoolDir, 'targets'), signal);
        }
        file = stdinFile;
      } else {
        file = { path, display: path, format: formatOfPath(path) };
      }
      count += await countTargetFile(file, signal);
      sources.push({ kind: 'file', file });
    }
    const domains = options.resolveDomains ?? [];
    if (domains.length > 0) {
      const resolve = options.resolve ?? systemResolve;
      for (const targets of await resolveDomains(domains, resolve, signal)) {
        count += BigInt(targets.length);
        sources.push({ kind: 'list', targets });
      }
    }
    return new ValidatedSource(sources, count, signal, cleanup);
  } catch (err) {
    await cleanup();
    throw err;
  }
}

class ValidatedSource implements TargetSource {
  readonly total: number | undefined;
  #closed = false;
  constructor(
    private readonly sources: readonly Source[],
    count: bigint,
    private readonly signal: AbortSignal | undefined,
    private readonly cleanup: () => Promise<void>,
  ) {
    this.total = count <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(count) : undefined;
  }

  targets(signal?: AbortSignal): AsyncGenerator<Target, void, undefined> & BatchedTargets {
    const sig = signal && this.signal ? AbortSignal.any([signal, this.signal]) : (signal ?? this.signal);
    return Object.assign(this.#each(sig), { [TARGET_BATCHES]: () => this.#batches(sig) });
  }

  async *#each(sig: AbortSignal | undefined): AsyncGenerator<Target, void, undefined> {
    for await (const batch of this.#batches(sig)) {
      for (const target of batchTargets(batch)) {
        if (sig?.aborted) throw sig.reason;
        yield target;
      }
    }
  }

  async *#batches(sig: AbortSignal | undefined): AsyncGenerator<TargetBatch, void, undefined> {
    if (this.#closed) throw new TargetSourceClosedError();
    for (const source of this.sources) {
      if (source.kind === 'list') {
        if (sig?.aborted) throw sig.reason;
        yield source.targets;
      } else if (source.kind === 'spec') {
        for (const batch of entryBatches([source.spec])) {
          if (sig?.aborted) throw sig.reason;
          yield batch;
        }
      } else {
        for await (const entries of readTargetFile(source.file, sig)) {
          for (const batch of entryBatches(entries)) {
            if (sig?.aborted) throw sig.reason;
            yield batch;
          }
        }
      }
      if (this.#closed) throw new TargetSourceClosedError();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.cleanup();
  }
}

/** Copies `stdin` to `path` and sniffs its format: JSON lines when the first non-blank character is `{`. */
async function spoolStdin(
  stdin: Readable,
  path: string,
  signal: AbortSignal | undefined,
): Promise<TargetFile> {
  try {
    await pipeline(stdin, createWriteStream(path), signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw new TargetParseError('stdin', `cannot read: ${(err as Error).message}`, { cause: err });
  }
  return { path, display: 'stdin', format: await sniffFormat(path) };
}

async function sniffFormat(path: string): Promise<TargetFileFormat> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(4096) });
    const head = buffer
      .toString('utf8', 0, bytesRead)
      .replace(/^\uFEFF/, '')
      .trimStart();
    return head.startsWith('{') ? 'jsonl' : 'txt';
  } finally {
    await handle.close();
  }
}

/** Resolves every domain in parallel; the first failure in the order given becomes the error. */
async function resolveDomains(
  domains: readonly string[],
  resolve: ResolveFn,
  signal: AbortSignal | undefined,
): Promise<Target[][]> {
  for (const domain of domains) {
    if (!isHostname(domain))
      throw new TargetParseError(`--resolve ${domain}`, `"${domain}" is not a valid hostname`);
  }
  // One controller so that the first failure stops the other lookups instead of leaving them running.
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const outcomes = await Promise.allSettled(
      domains.map(async (domain) => {
        try {
          return await resolveOne(domain, resolve, controller.signal);
        } catch (err) {
          if (!controller.signal.aborted) controller.abort(err);
          throw err;
        }
      }),
    );
    if (signal?.aborted) throw signal.reason;
    const failure = outcomes.find(
      (o): o is PromiseRejectedResult => o.status === 'rejected' && o.reason instanceof TargetParseError,
    );
    if (failure) throw failure.reason;
    const other = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (other) throw other.reason;
    return outcomes.map((o) => (o as PromiseFulfilledResult<Target[]>).value);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

async function resolveOne(domain: string, resolve: ResolveFn, signal: AbortSignal): Promise<Target[]> {
  const where = `--resolve ${domain}`;
  const name = domain.toLowerCase();
  let addresses: string[];
  try {
    addresses = await resolve(name, signal);
  } catch (err) {
    // Aborted: by the caller, or because another domain failed first; report that one, not a cancellation.
    if (signal.aborted) throw signal.reason;
    const code = (err as { code?: unknown }).code;
    const reason =
      code === 'ENOTFOUND' ? 'no such domain (ENOTFOUND)' : `DNS lookup failed: ${(err as Error).message}`;
    throw new TargetParseError(where, reason, { cause: err });
  }
  if (addresses.length === 0) throw new TargetParseError(where, 'no A/AAAA records');
  return addresses.map((address) => {
    if (isIP(address) === 0)
      throw new TargetParseError(where, `the resolver returned "${address}", not an IP address`);
    return { address: address.toLowerCase(), name, labels: EMPTY_LABELS };
  });
}
