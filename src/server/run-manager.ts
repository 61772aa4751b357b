import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Check } from '../checks/check.js';
import type { CheckRegistry } from '../checks/registry.js';
import { type Credentials, emptyCredentials } from '../config/credentials.js';
import { delay } from '../core/deadline.js';
import { CancelledError, describeError } from '../core/errors.js';
import { silentLog } from '../core/silent-log.js';
import { type Executor, LocalExecutor } from '../engine/executor.js';
import { type Result, STATUSES, type StatusCounts } from '../engine/result.js';
import { readRunOptions } from '../engine/run-options.js';
import { OwnerLease } from '../runs/owner-lease.js';
import { newRunRecord, StoredRun } from '../runs/stored-run.js';
import type { RunRecord, RunState, Store } from '../store/store.js';
import { openTargets, type TargetSource } from '../targets/open-targets.js';
import { AllowList } from './allow-list.js';
import { ApiError } from './errors.js';
import { Metrics } from './metrics.js';
import { type RunRequest, runRequestSchema } from './schemas.js';
import { parseOr400 } from './validate.js';
import { validateRunArgs, validateTargets } from './validate-run-args.js';

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
  /** This process's lease on the runs it executes, in ms (default 30 s; see `OwnerLease`). */
  leaseTtlMs?: number;
  /** Told every batch of every run's results once stored (`StoredRun`'s `onStored`; awaited: it may slow runs). */
  onStored?: (results: readonly Result[]) => void | Promise<void>;
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
  /** Counters before the run executes (a resumed run's stored rows); then `run.counts`. */
  counts: StatusCounts;
  resume: boolean;
  run?: StoredRun;
  startedMs?: number;
  finished: Promise<void>;
  resolveFinished: () => void;
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
  readonly #lease: OwnerLease;
  readonly #onStored: RunManagerOptions['onStored'];
  readonly #live = new Map<string, LiveRun>();
  readonly #queue: LiveRun[] = [];
  readonly #running = new Set<string>();
  readonly #tasks = new Set<Promise<void>>();
  #accepting = true;

  constructor(opts: RunManagerOptions) {
    this.#store = opts.store;
    this.#registry = opts.registry;
    this.#log = opts.log ?? silentLog;
    this.#executor = opts.executor ?? new LocalExecutor({ log: this.#log });
    this.#max = Math.max(1, opts.maxConcurrentRuns ?? 4);
    this.#allow =
      opts.allowTargets && opts.allowTargets.length > 0 ? new AllowList(opts.allowTargets) : undefined;
    this.#credentials = opts.credentials ?? emptyCredentials();
    this.metrics = opts.metrics ?? new Metrics();
    this.#progressWriteMs = opts.progressWriteMs ?? 1000;
    this.#lease = new OwnerLease(this.#store, { ttlMs: opts.leaseTtlMs, log: this.#log });
    this.#onStored = opts.onStored;
  }

  get store(): Store {
    return this.#store;
  }

  /** The id of this process's lease (`OwnerLease.id`): the owner of every run it executes, monitor rounds too. */
  get ownerId(): string {
    return this.#lease.id;
  }

  get executor(): Executor {
    return this.#executor;
  }

  /** The compiled allow-list (`--allow-targets`); undefined = any address. */
  get allow(): AllowList | undefined {
    return this.#allow;
  }

  get credentials(): Credentials {
    return this.#credentials;
  }

  get registry(): CheckRegistry {
    return this.#registry;
  }

  get allowList(): readonly string[] | undefined {
    return this.#allow?.blocks;
  }

  /**
   * At server start: takes this process's lease, resumes the runs the executor can resume, and marks
   * `interrupted` the runs whose owner's lease expired (a live `run --db` elsewhere keeps its run).
   */
  async start(): Promise<number> {
    await this.#lease.start();
    const resumed = await this.#resume((await this.#executor.resumableRuns?.()) ?? []);
    const n = await this.#store.markInterrupted({ except: resumed });
    if (n > 0) this.#log.warn({ runs: n }, 'marked runs left over by a previous process as interrupted');
    return n;
  }

  /** Validates and queues a run (see class doc). Throws ApiError 400/403/503, StoreError. */
  async submit(body: unknown): Promise<RunRecord> {
    if (!this.#accepting) throw new ApiError('unavailable', 'the server is shutting down; no new runs');
    const { req, check, args, total } = this.#prepare(body);
    const record = newRunRecord({
      id: randomUUID(),
      check: check.name,
      // As given, not as validated: validated arguments may hold values JSON cannot keep (a RegExp).
      args: req.args ?? {},
      targets: { specs: req.targets },
      options: readRunOptions(req),
      total: total <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(total) : null,
    });
    await this.#store.createRun(record);
    return this.#enqueue(record, req, check, args, false);
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
      const { ratePerSec, ...options } = record.options;
      const targets = (record.targets as { specs?: unknown } | null)?.specs;
      try {
        const { req, check, args } = this.#prepare({
          check: record.check,
          args: record.args,
          targets,
          ...options,
          rate: ratePerSec,
        });
        this.#enqueue(record, req, check, args, true);
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
    const total = validateTargets(req.targets, this.#allow);
    return { req, check, args, total };
  }

  #enqueue(
    record: RunRecord,
    req: RunRequest,
    check: Check<unknown>,
    args: unknown,
    resume: boolean,
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
      counts: { ...record.counts },
      resume,
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
    if (live) return { ...live.record, counts: this.#counts(live), progress: this.#progress(live) };
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
      await this.#finishQueued(live, null);
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
   * finish, then are cancelled; resolves when every run has been written in its final state (or given up on),
   * then ends the lease. An executor whose runs survive this process (distributed mode) detaches them at once
   * when closed: they stay `running` and the next start resumes them.
   */
  async close(opts: { graceMs?: number } = {}): Promise<void> {
    this.#accepting = false;
    for (const live of this.#queue.splice(0)) await this.#finishQueued(live, 'the server shut down');
    // A run that just finished has left #live a moment before #running (its task's finally).
    const running = [...this.#running].flatMap((id) => this.#live.get(id)?.finished ?? []);
    if (running.length > 0) await this.#executor.detach?.();
    if (running.length > 0) {
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
    await this.#lease.stop();
  }

  #counts(live: LiveRun): StatusCounts {
    return live.run ? live.run.counts : { ...live.counts };
  }

  #progress(live: LiveRun): RunProgressView {
    const counts = this.#counts(live);
    const done = sum(counts);
    const elapsedMs = live.startedMs === undefined ? 0 : performance.now() - live.startedMs;
    return {
      state: live.record.state,
      done,
      total: live.record.total,
      counts,
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
    live.startedMs = performance.now();
    let source: TargetSource | undefined;
    try {
      // No signal: openTargets keeps it for iteration, and on cancel the targets must still be drained.
      source = await openTargets({ specs: request.targets });
      const options = readRunOptions(request);
      live.run = new StoredRun({
        store: this.#store,
        executor: this.#executor,
        record,
        spec: {
          check: live.check,
          args: live.args,
          targets: source.targets(),
          total: source.total,
          ...options,
        },
        signal: live.controller.signal,
        owner: this.#lease.id,
        resume: live.resume,
        progressWriteMs: this.#progressWriteMs,
        onStored: this.#onStored,
        log: this.#log,
      });
      for await (const r of live.run.results()) this.metrics.check(r.check, r.status, r.durationMs);
    } catch (err) {
      // The StoredRun wrote the failure into the run; a failure before it started is written here.
      if (!live.run?.outcome) {
        this.#log.error({ err, run: record.id }, 'run failed');
        await this.#store
          .updateRun(record.id, {
            state: 'failed',
            error: describeError(err),
            finishedAt: new Date().toISOString(),
          })
          .catch(() => {});
        record.state = 'failed';
      }
    } finally {
      await source?.close().catch(() => {});
    }
    const outcome = live.run?.outcome;
    if (outcome && !outcome.detached) this.metrics.runFinished(outcome.state);
    this.#live.delete(record.id);
    live.resolveFinished();
  }

  /** A run cancelled before it ever executed. */
  async #finishQueued(live: LiveRun, error: string | null): Promise<void> {
    const { record } = live;
    record.state = 'cancelled';
    record.error = error;
    record.finishedAt = new Date().toISOString();
    try {
      await this.#store.updateRun(record.id, { state: 'cancelled', error, finishedAt: record.finishedAt });
    } catch (err) {
      this.#log.error({ err, run: record.id }, 'cancelled state not written');
    }
    this.metrics.runFinished('cancelled');
    this.#live.delete(record.id);
    live.resolveFinished();
  }
}
