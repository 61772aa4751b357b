import type { MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { loadBuiltinCheck } from '../checks/builtin-loaders.js';
import { CheckRegistry } from '../checks/registry.js';
import { CancelledError } from '../core/errors.js';
import { Wakeup } from '../core/wakeup.js';
import type { Result } from '../engine/result.js';
import { startRun } from '../engine/run.js';
import type { RunExecution } from '../engine/types.js';
import { encodeResultLines, linesBatch } from '../sinks/result-line.js';
import type { Target } from '../targets/target.js';
import { decodeTargets, type WireTarget } from './messages.js';
import { type RateGrant, RateGrantClient } from './rate.js';
import { runShard, type ShardHead } from './shard-runner.js';
import {
  BATCH_CREDIT,
  BATCH_DELAY_MS,
  BATCH_MAX,
  type FromThread,
  PROGRESS_EVERY_MS,
  type ResultForm,
  type ThreadData,
  type ToThread,
} from './thread-protocol.js';

type Post = (m: FromThread, transfer?: readonly ArrayBuffer[]) => void;

/** One run on this lane: one engine over the shards main sends. */
class LaneRun {
  readonly controller = new AbortController();
  exec: RunExecution | undefined;
  #shards: WireTarget[][] = [];
  #ended = false;
  dropped = false;
  readonly #wakeup = new Wakeup();
  #credit = BATCH_CREDIT;
  /** A line buffer main gave back, for the next batch's lines. */
  #spareLines: ArrayBuffer | undefined;
  #nextGrant = 0;
  readonly #grants = new Map<number, { resolve: (g: RateGrant) => void; reject: (e: unknown) => void }>();

  constructor(
    readonly runId: string,
    readonly form: ResultForm,
    readonly post: Post,
  ) {}

  push(targets: WireTarget[]): void {
    this.#shards.push(targets);
    this.#notify();
  }
  end(): void {
    this.#ended = true;
    this.#notify();
  }
  ack(lines: ArrayBuffer | undefined): void {
    this.#credit++;
    if (lines) this.#spareLines = lines;
    this.#notify();
  }
  drop(): void {
    this.dropped = true;
    this.controller.abort(new CancelledError('result consumer stopped'));
    for (const g of this.#grants.values()) g.reject(this.controller.signal.reason);
    this.#grants.clear();
    this.#notify();
  }
  granted(id: number, grant: RateGrant): void {
    this.#grants.get(id)?.resolve(grant);
    this.#grants.delete(id);
  }

  /** Wakes both waiters there may be: the engine pulling targets and the pump waiting for credit. */
  #notify(): void {
    this.#wakeup.notify();
  }
  #wait(): Promise<void> {
    return this.#wakeup.wait();
  }

  /**
   * The targets of the shards main sends, decoded as the engine pulls them. Written by hand: a target already
   * here costs one resolved promise, not an async generator's several (one per target, millions per run).
   */
  targets(): AsyncIterableIterator<Target> {
    let shard: Iterator<Target> | undefined;
    let closed = false;
    const next = (): Promise<IteratorResult<Target, undefined>> => {
      for (;;) {
        if (this.dropped || closed) return TARGETS_DONE;
        if (shard) {
          const item = shard.next();
          if (!item.done) return Promise.resolve(item);
          shard = undefined;
        }
        const wire = this.#shards.shift();
        if (wire) {
          shard = decodeTargets(wire);
          continue;
        }
        if (this.#ended) return TARGETS_DONE;
        return this.#wait().then(next);
      }
    };
    const iterator: AsyncIterableIterator<Target> = {
      next,
      return: () => {
        closed = true;
        shard = undefined;
        return TARGETS_DONE;
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  fetchGrant = (signal: AbortSignal): Promise<RateGrant> => {
    signal.throwIfAborted();
    const id = this.#nextGrant++;
    return new Promise<RateGrant>((resolve, reject) => {
      this.#grants.set(id, { resolve, reject });
      this.post({ t: 'grant?', runId: this.runId, id });
    });
  };

  /**
   * Sends results in batches, never more than BATCH_CREDIT unacknowledged. The engine (`exec`, whose results
   * `results` are) puts each result into the batch as it makes it (`sinkTo`), and sends a batch it fills while
   * there is credit: no promise and no turn per result. A result the batch cannot take (full, no credit) takes
   * the engine's async way: the loop below waits for credit before it takes it, and meanwhile the engine's
   * bounded channel fills and holds its jobs, as when every result came through the loop.
   */
  async pump(results: AsyncIterable<Result>): Promise<void> {
    let batch: Result[] = [];
    /** The loop holds a result (or a send failed): the sink refuses, so results keep their order. */
    let holding = false;
    let failed: { err: unknown } | undefined;
    const send = (final: boolean) => {
      this.#credit--;
      const results =
        this.form === 'objects'
          ? encodeResultLines(batch)
          : linesBatch(batch, this.form === 'lines', this.#spareLines);
      this.#spareLines = undefined;
      // A batch's lines move to main rather than being copied.
      const transfer =
        'lines' in results && results.lines.byteLength > 0 ? [results.lines.buffer as ArrayBuffer] : [];
      this.post(
        { t: 'results', runId: this.runId, results, final, progress: this.exec?.progress() },
        transfer,
      );
      batch = [];
    };
    const sendWhenCredit = async () => {
      while (this.#credit <= 0 && !this.dropped) await this.#wait();
      if (!this.dropped) send(false);
    };
    this.exec?.sinkTo?.((result) => {
      if (holding || this.dropped || batch.length >= BATCH_MAX) return false;
      batch.push(result);
      if (batch.length === BATCH_MAX && this.#credit > 0) {
        try {
          send(false);
        } catch (err) {
          // Thrown by the loop below, with the next result or at the end: never into the engine.
          failed = { err };
          holding = true;
        }
      }
      return true;
    });
    const timer = setInterval(() => {
      if (batch.length > 0 && this.#credit > 0 && !this.dropped) send(false);
    }, BATCH_DELAY_MS);
    try {
      for await (const result of results) {
        if (failed) throw failed.err;
        if (this.dropped) break;
        holding = true;
        if (batch.length >= BATCH_MAX) await sendWhenCredit(); // filled by the sink
        if (this.dropped) break;
        batch.push(result);
        if (batch.length >= BATCH_MAX) await sendWhenCredit();
        if (this.dropped) break;
        holding = false;
      }
      if (failed) throw failed.err;
      while (this.#credit <= 0 && !this.dropped) await this.#wait();
      if (!this.dropped) send(true);
    } finally {
      clearInterval(timer);
    }
  }
}

const TARGETS_DONE: Promise<IteratorResult<never, undefined>> = Promise.resolve({
  value: undefined,
  done: true,
});

/** Where a lane runs and what it may do there. */
export interface LaneEnv {
  readonly data: ThreadData;
  readonly log: Logger;
  /**
   * Close the process-wide DNS client whenever the lane has no run (a worker thread, whose client only its
   * runs use); a lane in the main thread leaves it to the process.
   */
  readonly closeDnsWhenIdle: boolean;
  /** A run failed in a way the engine never reports as results: the executor fails the run. */
  readonly onError: (err: unknown) => void;
}

/**
 * Serves the thread executor's protocol (`thread-protocol.ts`) on `port`: runs the shards main sends with the
 * same engine and the same shard runner as a NATS worker, and sends result batches back. Built-in checks only.
 * A worker thread serves its `parentPort` (`thread-worker.ts`); the main thread's own lane serves one end of a
 * `MessageChannel` (`main-lane.ts`). Returns what stops it: every run dropped, the port closed.
 */
export function serveLane(port: MessagePort, env: LaneEnv): () => void {
  const { data, log } = env;
  /** The built-in checks of the runs this lane got, each loaded by its first run (start-up loads none). */
  const registry = new CheckRegistry();
  /** The DNS client's modules, loaded by the first run that may use them (`--resolver`, the dns check). */
  let dns: typeof import('../dns/index.js') | undefined;
  const runs = new Map<string, LaneRun>();
  let progressTimer: NodeJS.Timeout | undefined;
  const post: Post = (m, transfer) => port.postMessage(m, transfer);

  const prepare = async (head: ShardHead): Promise<void> => {
    if (!registry.has(head.check)) {
      const check = await loadBuiltinCheck(head.check);
      // An unknown name stays unknown: the shard runner turns it into error results.
      if (check && !registry.has(check.name)) registry.register(check);
    }
    if (data.resolver !== undefined || head.check === 'dns') dns ??= await import('../dns/index.js');
  };

  const reportProgress = (): void => {
    for (const run of runs.values()) {
      if (run.exec && !run.dropped) post({ t: 'progress', runId: run.runId, progress: run.exec.progress() });
    }
  };

  const open = async (m: Extract<ToThread, { t: 'open' }>): Promise<void> => {
    const run = new LaneRun(m.runId, m.form, post);
    runs.set(m.runId, run);
    progressTimer ??= setInterval(reportProgress, PROGRESS_EVERY_MS);
    try {
      await prepare(m.head);
      // Built per run: the shared DNS client is closed whenever the lane has no run.
      const resolve =
        data.resolver !== undefined
          ? (await import('../targets/make-resolver.js')).makeResolver(data.resolver)
          : undefined;
      const shard = runShard(m.head, run.targets(), {
        registry,
        engine: startRun,
        ...(m.head.options.ratePerSec !== undefined
          ? { grants: new RateGrantClient(run.fetchGrant, log) }
          : {}),
        signal: run.controller.signal,
        log,
        ...(resolve ? { resolve } : {}),
        who: 'thread',
      });
      run.exec = shard.exec;
      await run.pump(shard.results);
    } catch (err) {
      // Never expected (the engine turns failures into results): main sees the lane's error and fails the run.
      log.error({ err, runId: m.runId }, 'thread run failed');
      throw err;
    } finally {
      runs.delete(m.runId);
      if (runs.size === 0) {
        clearInterval(progressTimer);
        progressTimer = undefined;
        if (env.closeDnsWhenIdle) await dns?.closeSharedDnsClient();
      }
    }
  };

  port.on('message', (m: ToThread) => {
    if (m.t === 'open') {
      open(m).catch(env.onError);
      return;
    }
    const run = runs.get(m.runId);
    if (!run) return;
    switch (m.t) {
      case 'shard':
        run.push(m.targets);
        break;
      case 'end':
        run.end();
        break;
      case 'cancel':
        run.controller.abort(new CancelledError('run cancelled'));
        break;
      case 'drop':
        run.drop();
        break;
      case 'ack':
        run.ack(m.lines);
        break;
      case 'grant':
        run.granted(m.id, m.grant);
        break;
    }
  });

  return () => {
    for (const run of runs.values()) run.drop();
    port.close();
  };
}
