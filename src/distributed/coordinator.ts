import {
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { CheckRegistry } from '../checks/registry.js';
import { abortPromise, delay } from '../core/deadline.js';
import { CancelledError, describeError, FleetprobeError } from '../core/errors.js';
import { Wakeup } from '../core/wakeup.js';
import type { ExecuteSpec as EngineExecuteSpec } from '../engine/executor.js';
import type { Result } from '../engine/result.js';
import { DistError } from './errors.js';
import {
  argsToWire,
  decodeMessage,
  decodeTargets,
  encodeJson,
  type ResultBatch,
  resultBatchSchema,
  type ShardMessage,
  syntheticResult,
  type WireTarget,
} from './messages.js';
import { assertRunId, type DistNames, distNames } from './names.js';
import {
  type DistLimits,
  dropRun,
  ensureResultsConsumer,
  ensureStreams,
  resetResultsConsumer,
  resolveLimits,
} from './nats.js';
import { RateGrantServer } from './rate.js';
import { isShardDone, markShardDone, type RunCursor, RunCursorStore } from './run-cursor.js';
import { ShardCutter } from './shard-cutter.js';
import { chooseShardSize } from './shard-size.js';

/**
 * The engine's `ExecuteSpec`, except that the check may be given by name: only its name (and default port,
 * for synthetic results) travels; workers use their own registry. `ratePerSec` holds over all workers together (the coordinator hands
 * out start grants).
 */
export type ExecuteSpec = Omit<EngineExecuteSpec, 'check'> & {
  readonly check: string | { readonly name: string; readonly defaultPort?: number };
};

/** Thrown out of `execute()` when the coordinator is closed mid-run: the run is NOT over and can be resumed. */
export class CoordinatorDetachedError extends FleetprobeError {
  readonly runId: string;
  constructor(runId: string) {
    super('FP_DIST_DETACHED', `coordinator closed while run ${runId} was in progress; it can be resumed`);
    this.runId = runId;
  }
}

export interface JetStreamExecutorOptions {
  readonly nc: NatsConnection;
  readonly log: Logger;
  /** Subject/stream prefix (default `fleetprobe`). */
  readonly prefix?: string;
  readonly limits?: Partial<DistLimits>;
  /** Shards published and not yet done, per run (default 16): the run is never materialised in the stream. */
  readonly window?: number;
  /** Targets per shard. Default: total / (8 x live workers), clamped to 16..1000; 250 when the total is unknown. */
  readonly shardSize?: number;
  /** Encoded bytes per shard message (default 256 KiB; always below the stream's max message size). */
  readonly maxShardBytes?: number;
  /** Live worker count, used to size shards (e.g. `() => registry.live().length`). */
  readonly liveWorkers?: () => number;
  /** Used only to give synthetic `cancelled` results the check's default port (when `spec.check` is a name). */
  readonly registry?: CheckRegistry;
  /**
   * When a result message is acked (and a shard recorded done):
   * - `pull` (default): once the consumer of `execute()` pulls the item after the message's last result.
   *   Exact when the consumer stores each result before pulling the next; a consumer that buffers (e.g. a
   *   batching store sink) can lose its buffer's results if the coordinator process dies.
   * - `stored`: once `onStored()` was called with every result of the message (exact with any buffering).
   *   The consumer MUST then report every stored batch, or messages are redelivered after ack_wait.
   */
  readonly ackOn?: 'pull' | 'stored';
  /** After a cancel: stop waiting for in-flight shards once no result arrived for this long (default 250 ms). */
  readonly cancelQuietMs?: number;
  /** After a cancel: wait at most this long for in-flight shards (default 2000 ms). */
  readonly cancelGraceMs?: number;
}

/**
 * The distributed `Executor`: `execute()` cuts the run's targets into shards, publishes them to the work
 * queue while fewer than `window` are outstanding, and yields results as worker batches arrive.
 *
 * Delivery contract: a result message is acked only after the consumer of `execute()` has pulled the next
 * item (i.e. stored the previous ones); a shard is recorded done in the run's cursor (before its final
 * message is acked) so a restarted coordinator never waits for it again. Results may be yielded twice
 * (redelivery); the store keeps one row per run and target.
 *
 * Ending: the iterable ends when every shard is done; after `signal` aborts (cancel) it publishes
 * `<p>.cancel.<runId>`, discards unstarted shards, waits briefly for in-flight shards, and yields
 * `cancelled` for every target without a result. Breaking out of the iterable or `close()` detaches: the
 * run stays in JetStream (workers go on) and `execute()` on a new executor resumes it.
 */
export interface JetStreamExecutor {
  execute(
    run: { readonly id: string },
    spec: ExecuteSpec,
    signal: AbortSignal,
  ): AsyncGenerator<Result, void, undefined>;
  /** With `ackOn: 'stored'`: the results (the very objects yielded) are now in the store. */
  onStored(runId: string, results: readonly Result[]): void;
  /** Run ids with a saved cursor: runs a restarted coordinator should resume. */
  resumableRuns(): Promise<string[]>;
  /** Forgets a run's distributed state (cursor, consumer, leftover shards and results). */
  forget(runId: string): Promise<void>;
  /** Detaches every run in progress (their `execute()` throws `CoordinatorDetachedError`). Idempotent. */
  close(): Promise<void>;
}

/** The fewest targets per shard the coordinator chooses (unless `shardSize` is given). */
const MIN_SHARD_SIZE = 16;

export async function createJetStreamExecutor(options: JetStreamExecutorOptions): Promise<JetStreamExecutor> {
  const names: DistNames = distNames(options.prefix);
  const limits = resolveLimits(options.limits);
  const { nc } = options;
  const js: JetStreamClient = jetstream(nc);
  const jsm: JetStreamManager = await jetstreamManager(nc);
  await ensureStreams(jsm, names, limits);
  const cursors = new RunCursorStore(js, jsm, names);
  const windowSize = options.window ?? 16;
  const maxShardBytes = Math.min(options.maxShardBytes ?? 256 * 1024, Math.floor(limits.maxMsgBytes / 2));
  const quietMs = options.cancelQuietMs ?? 250;
  const graceMs = options.cancelGraceMs ?? 2000;
  const closing = new AbortController();
  const ackOn = options.ackOn ?? 'pull';
  const storedHandlers = new Map<string, (results: readonly Result[]) => void>();

  async function* execute(
    run: { readonly id: string },
    spec: ExecuteSpec,
    signal: AbortSignal,
  ): AsyncGenerator<Result, void, undefined> {
    const runId = assertRunId(run.id);
    const checkName = typeof spec.check === 'string' ? spec.check : spec.check.name;
    const log = options.log.child({ runId });
    const ports = {
      args: spec.args,
      defaultPort:
        typeof spec.check === 'string'
          ? options.registry?.has(checkName)
            ? options.registry.get(checkName).defaultPort
            : undefined
          : spec.check.defaultPort,
    };
    let cursor: RunCursor | undefined = await cursors.get(runId);
    if (cursor) {
      log.info({ low: cursor.low, nextSeq: cursor.nextSeq }, 'resuming distributed run');
      await resetResultsConsumer(jsm, names, limits, runId);
    } else {
      await ensureResultsConsumer(jsm, names, limits, runId);
      cursor = {
        v: 1,
        runId,
        check: checkName,
        args: argsToWire(spec.args),
        options: {
          retries: spec.retries,
          concurrency: spec.concurrency,
          ...(spec.timeoutMs !== undefined ? { timeoutMs: spec.timeoutMs } : {}),
          ...(spec.ratePerSec !== undefined ? { ratePerSec: spec.ratePerSec } : {}),
        },
        shardSize:
          options.shardSize ?? chooseShardSize(spec.total, options.liveWorkers?.() ?? 4, MIN_SHARD_SIZE),
        maxShardBytes,
        nextSeq: 0,
        low: 0,
        doneAbove: [],
        exhausted: false,
        targetsPublished: 0,
        updatedAt: Date.now(),
      };
      await cursors.put(cursor);
    }
    const cur = cursor;
    // The run's one token bucket: workers ask it for start grants (a resumed run keeps its saved rate).
    const rate =
      cur.options.ratePerSec !== undefined
        ? new RateGrantServer(nc, names.rateSubject(runId), cur.options.ratePerSec, log)
        : undefined;
    const cutter = new ShardCutter(spec.targets, cur.shardSize, cur.maxShardBytes);
    /** Shards published in this coordinator's life and not done: bounded by the window. */
    const outstanding = new Map<number, WireTarget[]>();
    const wake = new Wakeup();
    const stopPublishing = new AbortController();
    let publisherError: unknown;
    let allCut = false;

    // Persist the cursor at most one write at a time; `flushCursor` waits until the current state is saved.
    let saving: Promise<void> = Promise.resolve();
    const flushCursor = () => {
      saving = saving
        .then(() => cursors.put(cur))
        .catch((err: unknown) => {
          log.warn({ err: describeError(err) }, 'saving run cursor failed');
        });
      return saving;
    };

    const publishShard = async (seq: number, count: number, targets: WireTarget[]) => {
      const msg: ShardMessage = {
        v: 1,
        runId,
        seq,
        check: cur.check,
        args: cur.args,
        options: cur.options,
        count,
        targets,
      };
      const data = encodeJson(msg);
      for (let attempt = 0; ; attempt++) {
        try {
          await js.publish(names.shardSubject(runId), data, { msgID: `${runId}:${seq}`, timeout: 5000 });
          return;
        } catch (err) {
          if (stopPublishing.signal.aborted) throw stopPublishing.signal.reason;
          // Stream full (discard new) or a transient broker error: back off, keep order.
          log.warn({ err: describeError(err), seq, attempt }, 'shard publish failed; retrying');
          await delay(Math.min(5000, 200 * 2 ** attempt), stopPublishing.signal);
        }
      }
    };

    const publisher = (async () => {
      try {
        for (;;) {
          if (stopPublishing.signal.aborted) return;
          while (outstanding.size >= windowSize) {
            const aborted = abortPromise(stopPublishing.signal);
            try {
              await Promise.race([wake.wait(), aborted.promise]);
            } finally {
              aborted.release();
            }
          }
          const shard = await cutter.next();
          if (!shard) break;
          if (isShardDone(cur, shard.seq)) {
            cur.nextSeq = Math.max(cur.nextSeq, shard.seq + 1);
            continue;
          }
          outstanding.set(shard.seq, shard.targets);
          await publishShard(shard.seq, shard.count, shard.targets);
          if (shard.seq >= cur.nextSeq) {
            cur.nextSeq = shard.seq + 1;
            cur.targetsPublished += shard.count;
          }
        }
        allCut = true;
        cur.exhausted = true;
        await flushCursor();
      } catch (err) {
        // An abort is the expected way out of the window wait and of publish retries.
        if (!stopPublishing.signal.aborted) publisherError = err;
      } finally {
        wake.notify();
      }
    })();

    // ackOn 'stored': result -> the message it came in, acked (and its shard marked done) once all stored.
    const awaitingStore = new WeakMap<Result, { remaining: number; settle: () => Promise<void> }>();
    const storedHandler = (stored: readonly Result[]) => {
      for (const r of stored) {
        const t = awaitingStore.get(r);
        if (!t) continue;
        awaitingStore.delete(r);
        if (--t.remaining === 0) {
          t.settle().catch((err: unknown) =>
            log.warn({ err: describeError(err) }, 'settling a result message failed'),
          );
        }
      }
    };
    storedHandlers.set(runId, storedHandler);

    const onCancel = () => wake.notify();
    signal.addEventListener('abort', onCancel, { once: true });
    const onClose = () => wake.notify();
    closing.signal.addEventListener('abort', onClose, { once: true });

    let messages: ConsumerMessages | undefined;
    try {
      const consumer = await js.consumers.get(names.resultsStream, names.resultsConsumer(runId));
      messages = await consumer.consume({ max_messages: 16 });
    } catch (err) {
      rate?.close();
      throw err;
    }
    let iterator: AsyncIterator<JsMsg> | undefined = messages[Symbol.asyncIterator]();
    let pending: Promise<IteratorResult<JsMsg>> | undefined;
    let finished = false;
    let cancelledAt: number | undefined;
    let lastMessageAt = Date.now();
    /** The message whose results are being yielded (pull mode): handed back with nak() on detach. */
    let inHand: JsMsg | undefined;

    const stopConsuming = async () => {
      const m = messages;
      const it = iterator;
      const p = pending;
      messages = undefined;
      iterator = undefined;
      pending = undefined;
      if (!m || !it) return;
      // stop() ends the pull; the iterator settles its pending next() as done, then its generator returns.
      m.stop();
      const last = await p?.catch(() => undefined);
      if (last && !last.done) last.value.nak();
      await it.return?.().catch(() => undefined);
    };

    try {
      for (;;) {
        if (closing.signal.aborted) throw new CoordinatorDetachedError(runId);
        if (publisherError !== undefined)
          throw new DistError(`run ${runId}: publishing shards failed`, { cause: publisherError });
        if (cancelledAt === undefined && signal.aborted) {
          cancelledAt = Date.now();
          log.info('cancelling distributed run');
          nc.publish(names.cancelSubject(runId));
          stopPublishing.abort(new CancelledError());
          await publisher;
          // Unstarted shards are discarded; workers abort in-flight ones and publish their final batches.
          await jsm.streams
            .purge(names.shardsStream, { filter: names.shardSubject(runId) })
            .catch(() => undefined);
          lastMessageAt = Date.now();
        }
        if (cancelledAt === undefined && allCut && cur.low >= cur.nextSeq && cur.doneAbove.length === 0) {
          finished = true;
          break;
        }
        if (cancelledAt !== undefined) {
          const now = Date.now();
          const inFlight = [...outstanding.keys()].some((s) => !isShardDone(cur, s));
          if (!inFlight || now - lastMessageAt >= quietMs || now - cancelledAt >= graceMs) break;
        }
        if (!iterator) throw new DistError(`run ${runId}: results consumer stopped`);
        pending ??= iterator.next();
        const timer = cancelledAt !== undefined ? delay(quietMs / 2).then(() => 'tick' as const) : undefined;
        const winner = await Promise.race([
          pending,
          wake.wait().then(() => 'wake' as const),
          ...(timer ? [timer] : []),
        ]);
        if (winner === 'wake' || winner === 'tick') continue;
        pending = undefined;
        if (winner.done) throw new DistError(`run ${runId}: results consumer closed`);
        const msg = winner.value;
        lastMessageAt = Date.now();
        let batch: ResultBatch;
        try {
          batch = decodeMessage(resultBatchSchema, msg.subject, msg.data);
          if (batch.runId !== runId)
            throw new DistError(`result batch of run ${batch.runId} on ${msg.subject}`);
        } catch (err) {
          log.error({ err: describeError(err) }, 'bad result message terminated');
          msg.term();
          continue;
        }
        log.debug(
          { seq: batch.seq, worker: batch.worker, n: batch.results.length, final: batch.final },
          'result batch',
        );
        // Even a done shard's batch is yielded: it may be an earlier batch redelivered after the final one
        // (a coordinator restart); the store keeps one row per target, so a true duplicate costs nothing.
        const settle = async () => {
          if (batch.final && !isShardDone(cur, batch.seq)) {
            markShardDone(cur, batch.seq);
            outstanding.delete(batch.seq);
            // The shard is recorded done before its final message is acked: a restarted coordinator whose
            // re-publish is de-duplicated by msgID never waits for a final it will not see again.
            await flushCursor();
            wake.notify();
          }
          msg.ack();
          if (inHand === msg) inHand = undefined;
        };
        inHand = msg;
        if (ackOn === 'stored' && batch.results.length > 0) {
          const tracker = { remaining: batch.results.length, settle };
          for (const raw of batch.results) {
            // A worker's results always belong to this run; force the id in case of a misconfigured worker.
            const r = raw.run === runId ? (raw as Result) : ({ ...raw, run: runId } as Result);
            awaitingStore.set(r, tracker);
            yield r;
          }
        } else {
          for (const r of batch.results)
            yield r.run === runId ? (r as Result) : ({ ...r, run: runId } as Result);
          await settle();
        }
      }

      if (cancelledAt !== undefined) {
        // Targets without a result: in-flight shards that did not answer, purged shards, and uncut targets.
        const reason = 'run cancelled';
        for (const [seq, targets] of outstanding) {
          if (isShardDone(cur, seq)) continue;
          for (const t of decodeTargets(targets))
            yield syntheticResult(runId, checkName, t, 'cancelled', reason, ports);
        }
        outstanding.clear();
        for (;;) {
          const shard = await cutter.next();
          if (!shard) break;
          // Not done, whether published in an earlier coordinator life (purged above) or never: cancelled.
          if (isShardDone(cur, shard.seq)) continue;
          for (const t of decodeTargets(shard.targets))
            yield syntheticResult(runId, checkName, t, 'cancelled', reason, ports);
        }
        finished = true;
        log.info({ ms: Date.now() - cancelledAt }, 'distributed run cancelled');
      } else {
        log.info({ shards: cur.nextSeq, targets: cur.targetsPublished }, 'distributed run done');
      }
    } finally {
      rate?.close();
      if (storedHandlers.get(runId) === storedHandler) storedHandlers.delete(runId);
      if (!finished) inHand?.nak();
      signal.removeEventListener('abort', onCancel);
      closing.signal.removeEventListener('abort', onClose);
      stopPublishing.abort(new CancelledError('coordinator stopped publishing'));
      await publisher;
      await stopConsuming();
      await cutter.close().catch(() => undefined);
      await saving;
      if (finished) {
        await dropRun(jsm, names, runId);
        await cursors.delete(runId).catch(() => undefined);
      }
    }
  }

  return {
    execute,
    onStored(runId: string, results: readonly Result[]) {
      storedHandlers.get(runId)?.(results);
    },
    resumableRuns: () => cursors.list(),
    async forget(runId: string) {
      await dropRun(jsm, names, runId);
      await cursors.delete(runId).catch(() => undefined);
    },
    async close() {
      closing.abort(new CancelledError('coordinator closed'));
    },
  };
}
