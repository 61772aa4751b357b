import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import pino from 'pino';
import type { Check } from '../checks/check.js';
import type { CheckRegistry } from '../checks/registry.js';
import { delay } from '../core/deadline.js';
import { CancelledError, describeError, isFleetprobeError, TargetParseError } from '../core/errors.js';
import { emptyCounts, STATUSES, type StatusCounts } from '../engine/result.js';
import { StoreWriteError, storeResults } from '../sinks/store-sink.js';
import type { RunRecord, RunState, Store } from '../store/store.js';
import { openTargets, type TargetSource } from '../targets/open-targets.js';
import { type ParsedSpec, parseTargetSpec, specCount } from '../targets/spec.js';
import { AllowList } from './allow-list.js';
import { type Credentials, emptyCredentials } from './credentials.js';
import { ApiError } from './errors.js';
import { type Executor, LocalExecutor } from './executor.js';
import { Metrics } from './metrics.js';
import { type RunRequest, runRequestSchema } from './schemas.js';
import { parseOr400 } from './validate.js';
import { validateRunArgs } from './validate-run-args.js';

const FINAL_STATES: readonly RunState[] = ['done', 'cancelled', 'failed', 'interrupted'];

export interface RunManagerOptions {
  store: Store;
  registry: CheckRegistry;
  /** Where checks run (default: in this process, `LocalExecutor`). */
  executor?: Executor;
  /** Runs executing at once; more wait `queued` (default 4). */
  maxConcurrentRuns?: number;
  /** CIDR blocks runs may target and address arguments may name; absent = any address. */
  allowTargets?: readonly string[];
  /** Named server-side files runs may use (default: none). */
  credentials?: Credentials;
  metrics?: Metrics;
  log?: Logger;
  /** How often a running run's counters are written to the store, in ms (default 1000). */
  progressWriteMs?: number;
}

/** Live numbers of a run, as the SSE `progress` event sends them. */
export interface RunProgressView {
  state: RunState;
  done: number;
  total: number | null;
  counts: StatusCounts;
  inFlight: number;
  /** Results per second since the run started. */
  rate: number;
  elapsedMs: number;
}

interface LiveRun {
  record: RunRecord;
  request: RunRequest;
  check: Check<unknown>;
  args: unknown;
  controller: AbortController;
  counts: StatusCounts;
  startedMs?: number;
  finished: Promise<void>;
  resolveFinished: () => void;
  progressWrite?: Promise<void>;
}

const sum = (c: StatusCounts) => STATUSES.reduce((n, s) => n + c[s], 0);

/**
 * Owns the server's runs: validates a request (400 naming the field, 403 outside the allow-list), records it
 * `queued`, runs it when one of `maxConcurrentRuns` slots is free, streams its results into the store in
 * batches and keeps its counters from the rows the store NEWLY inserted (a redelivered result never counts
 * twice). Cancel aborts the run's signal: in-flight checks are aborted and remaining targets are stored as
 * `cancelled`. Every run task is owned (tracked until it settles); `close()` drains them.
 */
export class RunManager {
  readonly metrics: Metrics;
  readonly #store: Store;
  readonly #registry: CheckRegistry;
  readonly #executor: Executor;
  readonly #max: number;
  readonly #allow: AllowList | undefined;
  readonly #credentials: Credentials;
  readonly #log: Logger;
  readonly #progressWriteMs: number;
  readonly #live = new Map<string, LiveRun>();
  readonly #queue: LiveRun[] = [];
  readonly #running = new Set<string>();
  readonly #tasks = new Set<Promise<void>>();
  #accepting = true;

  constructor(opts: RunManagerOptions) {
    this.#store = opts.store;
    this.#registry = opts.registry;
    this.#log = opts.log ?? pino({ level: 'silent' });
    this.#executor = opts.executor ?? new LocalExecutor({ log: this.#log });
    this.#max = Math.max(1, opts.maxConcurrentRuns ?? 4);
    this.#allow =
      opts.allowTargets && opts.allowTargets.length > 0 ? new AllowList(opts.allowTargets) : undefined;
    this.#credentials = opts.credentials ?? emptyCredentials();
    this.metrics = opts.metrics ?? new Metrics();
    this.#progressWriteMs = opts.progressWriteMs ?? 1000;
  }

  get store(): Store {
    return this.#store;
  }

  get allowList(): readonly string[] | undefined {
    return this.#allow?.blocks;
  }

  /** At server start: runs left `running`/`queued` by a process that died become `interrupted`. */
  async start(): Promise<number> {
    const resumed = this.#executor.resumableRuns
      ? await this.#resume(await this.#executor.resumableRuns())
      : [];
    const n = await this.#store.markInterrupted(resumed);
    if (n > 0) this.#log.warn({ runs: n }, 'marked runs left over by a previous process as interrupted');
    return n;
  }

  /** Validates and queues a run (see class doc). Throws ApiError 400/403/503, StoreError. */
  async submit(body: unknown): Promise<RunRecord> {
    if (!this.#accepting) throw new ApiError('unavailable', 'the server is shutting down; no new runs');
    const { req, check, args, total } = this.#prepare(body);
    const record: RunRecord = {
      id: randomUUID(),
      check: check.name,
      // As given, not as validated: validated arguments may hold values JSON cannot keep (a RegExp).
      args: req.args ?? {},
      targets: { specs: req.targets },
      options: {
        concurrency: req.concurrency,
        retries: req.retries,
        ...(req.timeoutMs !== undefined ? { timeoutMs: req.timeoutMs } : {}),
        ...(req.rate !== undefined ? { rate: req.rate } : {}),
      },
      state: 'queued',
      total: total <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(total) : null,
      counts: emptyCounts(),
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      error: null,
    };
    await this.#store.createRun(record);
    return this.#enqueue(record, req, check, args, emptyCounts());
  }

  /**
   * Distributed mode, at start: runs the coordinator can resume (their shards and results are still in
   * JetStream) go on under this process instead of being marked interrupted. The request is rebuilt from
   * the stored run; the counters start from the results already stored.
   */
  async #resume(ids: readonly string[]): Promise<string[]> {
    const resumed: string[] = [];
    for (const id of ids) {
      const record = await this.#store.getRun(id);
      if (!record || (record.state !== 'running' && record.state !== 'queued')) continue;
      const options = (record.options ?? {}) as Record<string, unknown>;
      const targets = (record.targets as { specs?: unknown } | null)?.specs;
      try {
        const { req, check, args } = this.#prepare({
          check: record.check,
          args: record.args,
          targets,
          ...options,
        });
        this.#enqueue(record, req, check, args, await this.#store.countResults(id));
        resumed.push(id);
        this.#log.info({ run: id }, 'resuming a distributed run left running by a previous process');
      } catch (err) {
        this.#log.warn({ err, run: id }, 'cannot resume run: it will be marked interrupted');
      }
    }
    return resumed;
  }

  #prepare(body: unknown): { req: RunRequest; check: Check<unknown>; args: unknown; total: bigint } {
    const req = parseOr400(runRequestSchema, body, 'body');
    if (!this.#registry.has(req.check)) {
      const known = this.#registry.list().map((c) => c.name);
      throw new ApiError(
        'bad_request',
        `body.check: unknown check "${req.check}" (available: ${known.join(', ')})`,
      );
    }
    const check = this.#registry.get(req.check);
    const args = validateRunArgs(check, req.args, { allowList: this.#allow, credentials: this.#credentials });
    let total = 0n;
    req.targets.forEach((text, i) => {
      let spec: ParsedSpec;
      try {
        spec = parseTargetSpec(text, `body.targets[${i}]`);
      } catch (err) {
        if (err instanceof TargetParseError) throw new ApiError('bad_request', err.message, { cause: err });
        throw err;
      }
      const refusal = this.#allow?.refusal(spec);
      if (refusal) throw new ApiError('forbidden', `body.targets[${i}]: "${text}" is ${refusal}`);
      total += specCount(spec);
    });

    return { req, check, args, total };
  }

  #enqueue(
    record: RunRecord,
    req: RunRequest,
    check: Check<unknown>,
    args: unknown,
    counts: StatusCounts,
  ): RunRecord {
    let resolveFinished!: () => void;
    const finished = new Promise<void>((r) => {
      resolveFinished = r;
    });
    const live: LiveRun = {
      record,
      request: req,
      check,
      args,
      controller: new AbortController(),
      counts,
      finished,
      resolveFinished,
    };
    const snapshot = { ...record };
    this.#live.set(record.id, live);
    this.#queue.push(live);
    this.#pump();
    return snapshot;
  }

  /** The run with live counters when it is in flight; from the store otherwise. */
  async get(id: string): Promise<(RunRecord & { progress?: RunProgressView }) | undefined> {
    const live = this.#live.get(id);
    if (live) return { ...live.record, counts: { ...live.counts }, progress: this.#progress(live) };
    return this.#store.getRun(id);
  }

  /** Live progress, or undefined when the run is not in flight in this process. */
  progress(id: string): RunProgressView | undefined {
    const live = this.#live.get(id);
    return live ? this.#progress(live) : undefined;
  }

  /** Resolves when the run ends; undefined when it is not in flight in this process. */
  finished(id: string): Promise<void> | undefined {
    return this.#live.get(id)?.finished;
  }

  /**
   * Cancels a run and waits (at most `waitMs`, default 5000) for it to reach its final state. A queued run
   * is cancelled at once; a finished run is returned unchanged. Undefined when the run does not exist.
   */
  async cancel(id: string, waitMs = 5000): Promise<RunRecord | undefined> {
    const live = this.#live.get(id);
    if (!live) return this.#store.getRun(id);
    const reason = new CancelledError('cancelled through the API');
    if (!this.#running.has(id)) {
      const i = this.#queue.indexOf(live);
      if (i !== -1) this.#queue.splice(i, 1);
      await this.#finish(live, 'cancelled', null);
    } else {
      live.controller.abort(reason);
      const timeout = new AbortController();
      await Promise.race([live.finished, delay(waitMs, timeout.signal).catch(() => {})]);
      timeout.abort();
    }
    return this.get(id);
  }

  /** Runs queued and running now. */
  active(): { queued: number; running: number } {
    return { queued: this.#queue.length, running: this.#running.size };
  }

  /** Checks in flight across runs (when the executor reports it). */
  inFlight(): number {
    let n = 0;
    for (const id of this.#running) n += this.#executor.progress?.(id)?.inFlight ?? 0;
    return n;
  }

  /**
   * Graceful shutdown: no new runs; queued runs are cancelled; running runs get `graceMs` (default 10 s) to
   * finish, then are cancelled; resolves when every run has been written in its final state (or given up on).
   * In distributed mode running runs are detached instead (they stay `running`; the next start resumes them).
   */
  async close(opts: { graceMs?: number } = {}): Promise<void> {
    this.#accepting = false;
    for (const live of this.#queue.splice(0)) await this.#finish(live, 'cancelled', 'the server shut down');
    const running = [...this.#running].map((id) => this.#live.get(id)!.finished);
    if (running.length > 0 && this.#executor.resumableRuns && this.#executor.close) {
      // Distributed mode: the runs go on in JetStream; detach now and let the next server resume them.
      await this.#executor.close();
    } else if (running.length > 0) {
      const timeout = new AbortController();
      await Promise.race([
        Promise.all(running),
        delay(opts.graceMs ?? 10_000, timeout.signal).catch(() => {}),
      ]);
      timeout.abort();
      for (const id of this.#running)
        this.#live.get(id)?.controller.abort(new CancelledError('the server shut down'));
    }
    await Promise.all(this.#tasks);
  }

  #progress(live: LiveRun): RunProgressView {
    const done = sum(live.counts);
    const elapsedMs = live.startedMs === undefined ? 0 : performance.now() - live.startedMs;
    return {
      state: live.record.state,
      done,
      total: live.record.total,
      counts: { ...live.counts },
      inFlight: this.#executor.progress?.(live.record.id)?.inFlight ?? 0,
      rate: elapsedMs > 0 ? Math.round((done / elapsedMs) * 1000 * 10) / 10 : 0,
      elapsedMs: Math.round(elapsedMs),
    };
  }

  #pump(): void {
    while (this.#accepting && this.#running.size < this.#max && this.#queue.length > 0) {
      const live = this.#queue.shift()!;
      this.#running.add(live.record.id);
      const task = this.#execute(live).finally(() => {
        this.#running.delete(live.record.id);
        this.#tasks.delete(task);
        this.#pump();
      });
      this.#tasks.add(task);
    }
  }

  /** Never rejects: every failure ends up in the run's state and error. */
  async #execute(live: LiveRun): Promise<void> {
    const { record, request } = live;
    const signal = live.controller.signal;
    live.startedMs = performance.now();
    record.state = 'running';
    record.startedAt ??= new Date().toISOString();
    let state: RunState = 'done';
    let error: string | null = null;
    let source: TargetSource | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.#store.updateRun(record.id, { state: 'running', startedAt: record.startedAt });
      // No signal: openTargets keeps it for iteration, and on cancel the targets must still be drained.
      source = await openTargets({ specs: request.targets });
      const results = this.#executor.execute(
        record,
        {
          check: live.check,
          args: live.args,
          // No signal here: on cancel the engine drains the remaining targets as `cancelled` results.
          targets: source.targets(),
          concurrency: request.concurrency,
          retries: request.retries,
          ...(source.total !== undefined ? { total: source.total } : {}),
          ...(request.timeoutMs !== undefined ? { timeoutMs: request.timeoutMs } : {}),
          ...(request.rate !== undefined ? { ratePerSec: request.rate } : {}),
        },
        signal,
      );
      timer = setInterval(() => this.#writeProgress(live), this.#progressWriteMs);
      const stored = storeResults(this.#store, results, {
        onCounts: (c, batch) => {
          for (const s of STATUSES) live.counts[s] += c[s];
          this.#executor.onStored?.(record.id, batch);
        },
        onError: (err, batch) =>
          this.#log.error({ err, run: record.id, results: batch.length }, 'results not stored'),
      });
      for await (const r of stored) this.metrics.check(r.check, r.status, r.durationMs);
      state = signal.aborted ? 'cancelled' : 'done';
    } catch (err) {
      if (isFleetprobeError(err, 'FP_DIST_DETACHED')) {
        // Distributed mode, shutting down: the run goes on in JetStream and the next server resumes it.
        this.#log.info({ run: record.id }, 'run detached; the next server start resumes it');
        clearInterval(timer);
        await live.progressWrite;
        await source?.close().catch(() => {});
        this.#live.delete(record.id);
        live.resolveFinished();
        return;
      }
      state = signal.aborted && !(err instanceof StoreWriteError) ? 'cancelled' : 'failed';
      error = state === 'failed' ? describeError(err) : null;
      if (state === 'failed') this.#log.error({ err, run: record.id }, 'run failed');
    } finally {
      clearInterval(timer);
      await live.progressWrite;
      await source?.close().catch(() => {});
    }
    await this.#finish(live, state, error);
  }

  #writeProgress(live: LiveRun): void {
    if (live.progressWrite) return; // the previous write is still going: skip this tick
    live.progressWrite = this.#store
      .updateRun(live.record.id, { counts: { ...live.counts } })
      .catch((err: unknown) => this.#log.warn({ err, run: live.record.id }, 'progress not written'))
      .finally(() => {
        live.progressWrite = undefined;
      });
  }

  /** Writes the final state, retrying while the database is away (up to ~15 s); the run is then released. */
  async #finish(live: LiveRun, state: RunState, error: string | null): Promise<void> {
    const { record } = live;
    record.state = state;
    record.error = error;
    record.finishedAt = new Date().toISOString();
    record.counts = { ...live.counts };
    const patch = { state, error, finishedAt: record.finishedAt, counts: record.counts };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#store.updateRun(record.id, patch);
        break;
      } catch (err) {
        if (attempt >= 5) {
          this.#log.error(
            { err, run: record.id },
            'final run state not written; it will be marked interrupted at the next start',
          );
          break;
        }
        await delay(500 * 2 ** attempt);
      }
    }
    if (FINAL_STATES.includes(state)) this.metrics.runFinished(state);
    this.#live.delete(record.id);
    live.resolveFinished();
  }
}
