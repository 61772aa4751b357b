import type { Client } from '@elastic/elasticsearch';
import { describeError } from '../../core/errors.js';
import { timerWait } from '../../core/timer-wait.js';
import type { SearchDocument } from './document.js';
import type { IndexNamePattern } from './index-name.js';

/** Why a document was not indexed: kept for the report (the first few of a sink). */
export interface DocumentProblem {
  readonly id: string;
  readonly index: string;
  /** The HTTP status of the document's item (or of the whole request); 0: no answer (connection, timeout). */
  readonly status: number;
  /** `mapper_parsing_exception`, `ResponseError`, `ConnectionError`, ... */
  readonly type: string;
  readonly reason: string;
}

/** What became of one batch. Every document is in exactly one of the first five counts. */
export interface BatchOutcome {
  indexed: number;
  /** Already in the index (409 on `create`): a document sent again after a lost answer, or redelivered. */
  duplicates: number;
  /** Refused for the document itself (a mapping error, any 4xx but 409/429): never retried. */
  rejected: number;
  /** Still 429, 5xx or unreachable after every retry, or refused as a whole request (401, 403, 413...). */
  failed: number;
  /** Not confirmed when the signal aborted (close timeout). */
  aborted: number;
  /** Documents sent again. */
  retries: number;
  problems: DocumentProblem[];
}

export interface BulkWriterOptions {
  readonly index: IndexNamePattern;
  /** Extra attempts for documents answered 429 or 5xx (per document or for the whole request) or unreachable (default 5). */
  readonly retries?: number;
  /** Wait before the first retry in ms, doubled for each next one (default 500). */
  readonly retryBaseMs?: number;
  /** Longest wait between attempts in ms (default 30 000). */
  readonly retryMaxMs?: number;
}

const MAX_PROBLEMS = 10;

/** A request-level failure worth retrying: overload, server faults, and no answer at all. */
function retryable(err: unknown): boolean {
  const e = err as { name?: string; statusCode?: number };
  if (e.name === 'ResponseError') return e.statusCode === 429 || (e.statusCode ?? 0) >= 500;
  return e.name === 'ConnectionError' || e.name === 'TimeoutError' || e.name === 'NoLivingConnectionsError';
}

function requestProblem(doc: SearchDocument, index: string, err: unknown): DocumentProblem {
  const e = err as { name?: string; statusCode?: number };
  return {
    id: doc.id,
    index,
    status: e.statusCode ?? 0,
    type: e.name ?? 'Error',
    reason: describeError(err),
  };
}

/**
 * Sends one batch of documents through the official client's bulk helper as `create` operations (ids are
 * deterministic, so a document sent twice is created once) and owns the retry policy: per-document 429
 * and 5xx items of a 200 answer, a 429 or 5xx answer to the whole request, and connection errors are sent
 * again after `retryBaseMs * 2^attempt` (capped at `retryMaxMs`), at most `retries` times; a document the
 * index refuses for itself is reported at once. One bulk request per attempt (the helper's own batching,
 * concurrency and retries are off: the sink's scheduler bounds the requests, this class the retries).
 *
 * Abort: the request in flight is aborted (the client's `signal`) and a backoff wait stops; every document
 * not confirmed by then counts as `aborted`.
 */
export class BulkWriter {
  readonly #client: Client;
  readonly #index: IndexNamePattern;
  readonly #retries: number;
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(client: Client, opts: BulkWriterOptions) {
    this.#client = client;
    this.#index = opts.index;
    this.#retries = opts.retries ?? 5;
    this.#baseMs = opts.retryBaseMs ?? 500;
    this.#maxMs = opts.retryMaxMs ?? 30_000;
  }

  /** The wait before retry number `attempt` (0-based), in ms. */
  backoffMs(attempt: number): number {
    return Math.min(this.#maxMs, this.#baseMs * 2 ** attempt);
  }

  /** Never rejects: every document ends in one count of the outcome. */
  async send(docs: readonly SearchDocument[], signal: AbortSignal): Promise<BatchOutcome> {
    const out: BatchOutcome = {
      indexed: 0,
      duplicates: 0,
      rejected: 0,
      failed: 0,
      aborted: 0,
      retries: 0,
      problems: [],
    };
    const note = (p: DocumentProblem) => {
      if (out.problems.length < MAX_PROBLEMS) out.problems.push(p);
    };
    let pending = docs;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) {
        out.aborted += pending.length;
        return out;
      }
      const again: SearchDocument[] = [];
      const last: DocumentProblem[] = [];
      try {
        const byId = new Map(pending.map((d) => [d.id, d]));
        let dropped = 0;
        const indexed = await this.#bulk(pending, signal, (drop) => {
          dropped++;
          if (drop.status === 409) out.duplicates++;
          else if (drop.status === 429 || drop.status >= 500) {
            again.push(byId.get(drop.id)!);
            last.push(drop);
          } else {
            out.rejected++;
            note(drop);
          }
        });
        out.indexed += indexed;
        // An abort between requests makes the helper stop quietly, without sending: not confirmed.
        const unanswered = pending.length - indexed - dropped;
        if (unanswered > 0) {
          out.aborted += unanswered + again.length;
          return out;
        }
      } catch (err) {
        if (signal.aborted) {
          out.aborted += pending.length;
          return out;
        }
        if (!retryable(err)) {
          out.failed += pending.length;
          for (const d of pending) note(requestProblem(d, this.#index.nameFor(d.timestamp), err));
          return out;
        }
        again.push(...pending);
        for (const d of pending) last.push(requestProblem(d, this.#index.nameFor(d.timestamp), err));
      }
      if (again.length === 0) return out;
      if (attempt >= this.#retries) {
        out.failed += again.length;
        for (const p of last) note(p);
        return out;
      }
      try {
        await timerWait(this.backoffMs(attempt), signal);
      } catch {
        out.aborted += again.length;
        return out;
      }
      out.retries += again.length;
      pending = again;
    }
  }

  /** One bulk request for `docs`; `onDrop` gets each document item answered >= 400. Resolves to the count indexed. */
  async #bulk(
    docs: readonly SearchDocument[],
    signal: AbortSignal,
    onDrop: (problem: DocumentProblem) => void,
  ): Promise<number> {
    const helper = this.#client.helpers.bulk<SearchDocument>(
      {
        datasource: docs as SearchDocument[],
        onDocument: (d) => [{ create: { _index: this.#index.nameFor(d.timestamp), _id: d.id } }, d.body],
        onDrop: (drop) => {
          const action = (drop.operation as { create?: { _index?: string; _id?: string } }).create;
          const error = drop.error as { type?: string; reason?: string } | null;
          onDrop({
            id: action?._id ?? '',
            index: action?._index ?? '',
            status: drop.status,
            type: error?.type ?? String(drop.status),
            reason: error?.reason ?? (drop.status === 429 ? 'too many requests' : 'refused'),
          });
        },
        flushBytes: Number.MAX_SAFE_INTEGER,
        flushInterval: 2 ** 31 - 1,
        concurrency: 1,
        retries: 0,
      },
      { signal, maxRetries: 0 },
    );
    // The request's own signal aborts it; the helper's `abort()` is not called: after it, the helper leaves
    // the request's rejection unhandled (client 9.4).
    return (await helper).successful;
  }
}
