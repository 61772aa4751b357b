import type { Client } from '@elastic/elasticsearch';
import type { Logger } from 'pino';
import { CloseTimeoutError, SchedulerClosedError } from '../core/errors.js';
import { Scheduler } from '../core/scheduler.js';
import { type BatchOutcome, BulkWriter, type DocumentProblem } from './search/bulk-writer.js';
import type { SearchDocument } from './search/document.js';
import type { IndexNamePattern } from './search/index-name.js';

/** What the sink did with the documents it was given. */
export interface SearchIndexStats {
  /** Documents given to `write`. */
  accepted: number;
  indexed: number;
  /** Already in the index (a retry after a lost answer, a redelivered result): not an error. */
  duplicates: number;
  /** Refused for the document itself (mapping error, 4xx): not retried. */
  rejected: number;
  /** Still 429/5xx/unreachable after the retries, or refused as a whole request (auth, 413). */
  failed: number;
  /** Not sent or not confirmed when `close` timed out or the sink's signal aborted. */
  aborted: number;
  /** Documents sent again (429, 5xx, connection errors). */
  retries: number;
  /** Documents the sink holds now: the batch being filled, queued batches and batches in flight. */
  held: number;
  /** The first few documents not indexed, with the reason. */
  problems: DocumentProblem[];
}

/** Documents not indexed (rejected + failed + aborted). */
export function notIndexed(stats: SearchIndexStats): number {
  return stats.rejected + stats.failed + stats.aborted;
}

const fmt = new Intl.NumberFormat('en-US');

/** One line: `1,000 indexed, 2 rejected (first: <id> 400 mapper_parsing_exception: ...)`. */
export function describeSearchIndexStats(stats: SearchIndexStats): string {
  const parts = [`${fmt.format(stats.indexed)} indexed`];
  for (const key of ['duplicates', 'rejected', 'failed', 'aborted'] as const) {
    if (stats[key] > 0)
      parts.push(`${fmt.format(stats[key])} ${key === 'duplicates' ? 'already indexed' : key}`);
  }
  if (stats.retries > 0) parts.push(`${fmt.format(stats.retries)} retried`);
  const first = stats.problems[0];
  const why = first
    ? ` (first: ${first.id} in ${first.index}: ${first.status} ${first.type}: ${first.reason})`
    : '';
  return `${parts.join(', ')}${why}`;
}

export interface SearchIndexSinkOptions {
  /** The official client (`createSearchClient`). */
  client: Client;
  /** `close()` also closes the client (default false: the caller owns it). */
  ownsClient?: boolean;
  index: IndexNamePattern;
  /** Documents per bulk request (default 500). */
  batchSize?: number;
  /** A partial batch is sent once its first document is this old, in ms (default 1000). */
  flushMs?: number;
  /** Bulk requests in flight (default 2). */
  concurrency?: number;
  /** Full batches waiting for a request slot before `write` waits (default 2). */
  pendingLimit?: number;
  /** Retry policy for 429/5xx/unreachable: see `BulkWriter` (defaults 5 retries, 500 ms doubling, 30 s cap). */
  retries?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Aborting it aborts the requests in flight and the batches waiting (counted `aborted`). */
  signal?: AbortSignal;
  /** A warning per batch with documents not indexed (counts and the first reason). */
  log?: Logger;
}

export interface SearchIndexCloseOptions {
  /** Milliseconds for the remaining batches to be sent; then what is left is aborted. Default: no limit. */
  timeoutMs?: number;
}

/**
 * A search-index sink: documents from any stream (results, monitor transitions) go to Elasticsearch or
 * OpenSearch in bulk requests, behind the bounded `Scheduler`: at most `concurrency` requests in flight and
 * `pendingLimit` full batches waiting; beyond that `write` waits (backpressure: a slow index slows the
 * producer). So the sink never holds more than `batchSize x (1 + pendingLimit + concurrency)` documents.
 *
 * Every accepted document ends in exactly one count of `stats` (indexed, duplicates, rejected, failed,
 * aborted); nothing is dropped silently. Retries and their backoff: `BulkWriter`.
 * `close()` sends the partial batch, waits for the rest, and after `timeoutMs` aborts what is left.
 */
export class SearchIndexSink {
  readonly #writer: BulkWriter;
  readonly #client: Client | undefined;
  readonly #scheduler: Scheduler;
  readonly #batchSize: number;
  readonly #flushMs: number;
  readonly #log: Logger | undefined;
  readonly #stats: SearchIndexStats = {
    accepted: 0,
    indexed: 0,
    duplicates: 0,
    rejected: 0,
    failed: 0,
    aborted: 0,
    retries: 0,
    held: 0,
    problems: [],
  };
  readonly #jobs = new Set<Promise<void>>();
  #batch: SearchDocument[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Set while a full batch waits for room: later writers wait behind it, so the bound holds for many producers. */
  #handing: Promise<void> | undefined;
  #closing: Promise<SearchIndexStats> | undefined;

  constructor(opts: SearchIndexSinkOptions) {
    this.#writer = new BulkWriter(opts.client, {
      index: opts.index,
      retries: opts.retries,
      retryBaseMs: opts.retryBaseMs,
      retryMaxMs: opts.retryMaxMs,
    });
    this.#client = opts.ownsClient ? opts.client : undefined;
    this.#batchSize = opts.batchSize ?? 500;
    this.#flushMs = opts.flushMs ?? 1000;
    this.#log = opts.log;
    this.#scheduler = new Scheduler({
      limit: opts.concurrency ?? 2,
      pendingLimit: opts.pendingLimit ?? 2,
      signal: opts.signal,
    });
  }

  /** A snapshot of the counts. */
  get stats(): SearchIndexStats {
    return { ...this.#stats, problems: [...this.#stats.problems] };
  }

  /** Most documents the sink can hold: `batchSize x (1 + pendingLimit + concurrency)`. */
  get capacity(): number {
    return this.#batchSize * (1 + this.#scheduler.pendingLimit + this.#scheduler.limit);
  }

  /**
   * Adds a document; waits while the sink is full. Rejects with `SchedulerClosedError` once `close` was
   * called (the caller closes the sink after its last write).
   */
  async write(doc: SearchDocument): Promise<void> {
    while (this.#handing) await this.#handing;
    if (this.#closing) throw new SchedulerClosedError();
    this.#stats.accepted++;
    this.#stats.held++;
    this.#batch.push(doc);
    if (this.#batch.length >= this.#batchSize) await this.#handOver();
    else if (this.#batch.length === 1) this.#timer = setTimeout(() => this.#onTimer(), this.#flushMs);
  }

  /** `write` for each document, in order. */
  async writeAll(docs: Iterable<SearchDocument>): Promise<void> {
    for (const doc of docs) await this.write(doc);
  }

  /**
   * A pass-through: yields each item of `source` once its document (`toDocument`) is written to the sink,
   * so a slow index slows the stream. Closing the sink stays with the caller.
   */
  async *through<T>(source: AsyncIterable<T>, toDocument: (item: T) => SearchDocument): AsyncGenerator<T> {
    for await (const item of source) {
      await this.write(toDocument(item));
      yield item;
    }
  }

  /** Full batch: waits for room in the scheduler (backpressure). */
  async #handOver(): Promise<void> {
    const batch = this.#take();
    if (batch.length === 0) return;
    const handing = this.#spawn(batch);
    this.#handing = handing;
    try {
      await handing;
    } finally {
      this.#handing = undefined;
    }
  }

  /** A partial batch got old: sent if there is room now, else the timer is armed again. */
  #onTimer(): void {
    this.#timer = undefined;
    if (this.#handing || this.#closing || this.#batch.length === 0) return;
    const batch = this.#batch;
    let spawned: { done: Promise<void> };
    try {
      spawned = this.#scheduler.trySpawn((signal) => this.#send(batch, signal));
    } catch {
      this.#timer = setTimeout(() => this.#onTimer(), this.#flushMs);
      return;
    }
    this.#batch = [];
    this.#track(batch, spawned);
  }

  #take(): SearchDocument[] {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#batch;
    this.#batch = [];
    return batch;
  }

  async #spawn(batch: SearchDocument[]): Promise<void> {
    let spawned: { done: Promise<void> };
    try {
      spawned = await this.#scheduler.spawn((signal) => this.#send(batch, signal));
    } catch {
      // The sink was closed by a timeout (or its signal) while this batch waited for room.
      this.#settle(batch.length, { aborted: batch.length });
      return;
    }
    this.#track(batch, spawned);
  }

  #track(batch: SearchDocument[], spawned: { done: Promise<void> }): void {
    // `done` rejects only when the batch never started (the scheduler was destroyed while it was queued).
    const job = spawned.done.catch(() => this.#settle(batch.length, { aborted: batch.length }));
    this.#jobs.add(job);
    void job.finally(() => this.#jobs.delete(job));
  }

  async #send(batch: SearchDocument[], signal: AbortSignal): Promise<void> {
    let outcome: Partial<BatchOutcome>;
    try {
      outcome = await this.#writer.send(batch, signal);
    } catch (err) {
      // BulkWriter accounts for every document; this is a fault of ours, still counted.
      this.#log?.error({ err }, 'search index: batch failed');
      outcome = { failed: batch.length };
    }
    this.#settle(batch.length, outcome);
  }

  #settle(size: number, outcome: Partial<BatchOutcome>): void {
    const s = this.#stats;
    s.held -= size;
    s.indexed += outcome.indexed ?? 0;
    s.duplicates += outcome.duplicates ?? 0;
    s.rejected += outcome.rejected ?? 0;
    s.failed += outcome.failed ?? 0;
    s.aborted += outcome.aborted ?? 0;
    s.retries += outcome.retries ?? 0;
    for (const p of outcome.problems ?? []) if (s.problems.length < 10) s.problems.push(p);
    const lost = (outcome.rejected ?? 0) + (outcome.failed ?? 0) + (outcome.aborted ?? 0);
    if (lost > 0) {
      this.#log?.warn(
        {
          rejected: outcome.rejected ?? 0,
          failed: outcome.failed ?? 0,
          aborted: outcome.aborted ?? 0,
          first: outcome.problems?.[0],
        },
        'search index: documents not indexed',
      );
    }
  }

  /**
   * Sends the partial batch, waits for every batch, and after `timeoutMs` aborts what is left (requests in
   * flight are aborted, waiting batches never start; both count as `aborted`). Resolves (never rejects) to
   * the final stats. Idempotent.
   */
  close(opts: SearchIndexCloseOptions = {}): Promise<SearchIndexStats> {
    this.#closing ??= this.#close(opts.timeoutMs);
    return this.#closing;
  }

  async #close(timeoutMs: number | undefined): Promise<SearchIndexStats> {
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            const held = this.#stats.held;
            this.#scheduler.destroy(
              new CloseTimeoutError(
                `search index sink: close timed out after ${timeoutMs} ms with ${held} document(s) unsent`,
              ),
            );
          }, timeoutMs);
    try {
      while (this.#handing) await this.#handing;
      const batch = this.#take();
      if (batch.length > 0) await this.#spawn(batch);
      await this.#scheduler.close();
      while (this.#jobs.size > 0) await Promise.all(this.#jobs);
    } finally {
      clearTimeout(timer);
      await this.#client
        ?.close()
        .catch((err: unknown) => this.#log?.warn({ err }, 'search index: client close failed'));
    }
    return this.stats;
  }
}
