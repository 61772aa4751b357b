import { randomUUID } from 'node:crypto';
import { type JetStreamClient, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { CheckRegistry } from '../checks/registry.js';
import { delay } from '../core/deadline.js';
import { CancelledError, describeError } from '../core/errors.js';
import type { Result } from '../engine/result.js';
import { startRun } from '../engine/run.js';
import type { RunExecution, RunSpec } from '../engine/types.js';
import { BatchPublisher } from './batch-publisher.js';
import { DistError } from './errors.js';
import {
  decodeMessage,
  decodeTargets,
  encodeJson,
  type Heartbeat,
  type ShardMessage,
  shardSchema,
} from './messages.js';
import { distNames } from './names.js';
import { connectNats, type DistLimits, ensureStreams, resolveLimits } from './nats.js';
import { RateGrantClient } from './rate.js';
import { runShard, syntheticResults } from './shard-runner.js';

export interface WorkerOptions {
  /** NATS server URL(s); used when `nc` is not given (the worker then owns and closes the connection). */
  readonly natsUrl?: string;
  /** An existing connection (not closed by the worker). */
  readonly nc?: NatsConnection;
  /** Shown in GET /api/v1/workers and metrics. Default: `<hostname>-<pid>`. */
  readonly name: string;
  /** Most checks in flight per shard (caps the run's own concurrency). Default 256. */
  readonly concurrency?: number;
  /** Shards held at once (default 2: one finishing its tail while the next starts). */
  readonly shards?: number;
  /** The checks this worker can run (built-ins; user check modules are not shipped to workers). */
  readonly registry: CheckRegistry;
  readonly log: Logger;
  /** Subject/stream prefix (default `fleetprobe`). */
  readonly prefix?: string;
  readonly limits?: Partial<DistLimits>;
  /** Heartbeat period (default 2000 ms). */
  readonly heartbeatMs?: number;
  /** Result messages: most results per message (default 100) and most delay (default 200 ms). */
  readonly batchSize?: number;
  readonly batchDelayMs?: number;
  /** The engine (default `startRun`); the worker runs shards with exactly what a local run uses. */
  readonly engine?: (spec: RunSpec) => RunExecution;
}

export interface WorkerStats {
  readonly name: string;
  readonly id: string;
  readonly state: 'running' | 'draining' | 'stopped';
  /** Checks in flight now. */
  readonly inFlight: number;
  /** Shards held now. */
  readonly shards: number;
  /** Results published since start. */
  readonly processed: number;
}

/**
 * A worker process's loop, returned by `startWorker`. Two ways to stop:
 * - `drain(graceMs)`: stop taking shards; let held shards finish for `graceMs` (default 10 s); hand the
 *   rest back (`nak`: redelivered at once to another worker; partial results already published stay valid,
 *   the store keeps one row per target); then close. What SIGTERM does.
 * - `destroy()`: hand every held shard back now and close.
 * `closed` resolves (never rejects) when everything is released.
 */
export interface Worker {
  stats(): WorkerStats;
  drain(graceMs?: number): Promise<void>;
  destroy(): Promise<void>;
  readonly closed: Promise<void>;
}

interface ActiveShard {
  readonly shard: ShardMessage;
  readonly controller: AbortController;
  exec?: RunExecution;
  /** Set when the worker gives the shard back instead of finishing it: nothing more is published. */
  handback: boolean;
  readonly done: Promise<void>;
}

const CANCELLED_MEMORY_MS = 3600_000;
const MAX_CANCELLED = 10_000;
const PULL_EXPIRES_MS = 2000;

/**
 * Starts a worker: pulls shards from the work-queue consumer one at a time per slot, runs each with the
 * engine, publishes result batches (JetStream publish acks), and acks the shard only after its final
 * batch is acknowledged. Held shards keep their lease with `working()` every ack_wait/3 (5 s / 3 by default).
 * A shard of a rate-limited run starts its checks on grants from the coordinator (`RateGrantClient`).
 * A shard on its last allowed delivery is dead-lettered: its targets get `error` results, unrun.
 */
export async function startWorker(options: WorkerOptions): Promise<Worker> {
  const names = distNames(options.prefix);
  const limits = resolveLimits(options.limits);
  const log = options.log.child({ worker: options.name });
  const engine = options.engine ?? startRun;
  const concurrency = options.concurrency ?? 256;
  const slots = options.shards ?? 2;
  const ownNc = options.nc === undefined;
  if (!options.nc && !options.natsUrl) throw new DistError('startWorker needs natsUrl or nc');
  const nc =
    options.nc ?? (await connectNats(options.natsUrl as string, `fleetprobe-worker-${options.name}`));
  const js: JetStreamClient = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, names, limits);
  const consumer = await js.consumers.get(names.shardsStream, names.workersConsumer);

  const id = randomUUID();
  const startedAt = Date.now();
  let state: WorkerStats['state'] = 'running';
  let processed = 0;
  const active = new Set<ActiveShard>();
  const cancelled = new Map<string, number>();
  /** One grant client per rate-limited run, shared by the shards of that run this worker holds. */
  const rateClients = new Map<string, { client: RateGrantClient; holders: number }>();
  const rateClient = (runId: string) => {
    let entry = rateClients.get(runId);
    if (!entry) {
      entry = {
        client: RateGrantClient.overNats(nc, names.rateSubject(runId), options.name, log),
        holders: 0,
      };
      rateClients.set(runId, entry);
    }
    entry.holders++;
    return {
      client: entry.client,
      release: () => {
        if (--entry.holders === 0) rateClients.delete(runId);
      },
    };
  };
  const heartbeatMs = options.heartbeatMs ?? 2000;
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => {
    closedResolve = r;
  });

  const stats = (): WorkerStats => {
    let inFlight = 0;
    for (const a of active) inFlight += a.exec?.progress().inFlight ?? 0;
    return { name: options.name, id, state, inFlight, shards: active.size, processed };
  };

  const heartbeat = () => {
    const s = stats();
    const hb: Heartbeat = { v: 1, ...s, startedAt, at: Date.now() };
    try {
      nc.publish(names.heartbeatSubject, encodeJson(hb));
    } catch (err) {
      log.warn({ err: describeError(err) }, 'heartbeat not sent');
    }
  };
  const heartbeatTimer = setInterval(heartbeat, heartbeatMs);
  heartbeat();

  const cancelSub: Subscription = nc.subscribe(names.allCancels, {
    callback: (err, msg) => {
      if (err) return;
      const runId = msg.subject.slice(names.allCancels.length - 1);
      const now = Date.now();
      cancelled.set(runId, now);
      for (const [k, t] of cancelled) {
        if (cancelled.size <= MAX_CANCELLED && now - t < CANCELLED_MEMORY_MS) break;
        cancelled.delete(k);
      }
      for (const a of active) {
        if (a.shard.runId === runId) a.controller.abort(new CancelledError('run cancelled'));
      }
      log.info({ runId }, 'run cancelled');
    },
  });

  const publishResults = async (subject: string, json: string): Promise<void> => {
    let lastErr: unknown;
    for (let attempt = 0; attempt < 4; attempt++) {
      try {
        await js.publish(subject, json, { timeout: 5000 });
        return;
      } catch (err) {
        lastErr = err;
        if (nc.isClosed()) break;
        await delay(250 * 2 ** attempt);
      }
    }
    throw new DistError(`publishing results on ${subject} failed`, { cause: lastErr });
  };

  const serveShard = async (msg: JsMsg, entry: ActiveShard): Promise<void> => {
    const { shard } = entry;
    const delivery = msg.info.deliveryCount;
    const subject = names.resultSubject(shard.runId);
    let batchNo = 0;
    const publisher = new BatchPublisher(
      async (results, final) => {
        const head = JSON.stringify({
          v: 1,
          runId: shard.runId,
          seq: shard.seq,
          delivery,
          batch: batchNo++,
          final,
          worker: options.name,
        });
        await publishResults(subject, `${head.slice(0, -1)},"results":[${results.join(',')}]}`);
        processed += results.length;
      },
      {
        maxResults: options.batchSize ?? 100,
        maxDelayMs: options.batchDelayMs ?? 200,
        maxBytes: Math.min(512 * 1024, limits.maxMsgBytes / 2),
      },
    );
    // A short lease renewed often: a worker that stops (killed, frozen) loses its shards within ackWaitMs.
    const lease = setInterval(() => msg.working(), Math.max(250, Math.floor(limits.ackWaitMs / 3)));
    const rate = shard.options.ratePerSec !== undefined ? rateClient(shard.runId) : undefined;
    try {
      let results: AsyncIterable<Result>;
      const targets = decodeTargets(shard.targets);
      if (delivery >= limits.maxDeliver) {
        log.warn({ runId: shard.runId, seq: shard.seq, delivery }, 'shard dead-lettered');
        const message = `shard failed ${delivery - 1} deliveries`;
        results = syntheticResults(shard, targets, 'error', message, options.registry);
      } else {
        const run = runShard(shard, targets, {
          registry: options.registry,
          engine,
          concurrency,
          ...(rate ? { grants: rate.client } : {}),
          signal: entry.controller.signal,
          log,
          who: `worker ${options.name}`,
        });
        entry.exec = run.exec;
        results = run.results;
      }
      for await (const result of results) {
        if (entry.handback) break;
        await publisher.add(result);
      }
      if (entry.handback) {
        publisher.abandon();
        msg.nak();
        log.info(
          { runId: shard.runId, seq: shard.seq, published: publisher.published },
          'shard handed back on drain',
        );
        return;
      }
      await publisher.finish();
      await msg.ackAck({ timeout: 5000 }).catch((err: unknown) => {
        // The shard will be redelivered; its results are already stored idempotently.
        log.warn({ err: describeError(err), seq: shard.seq }, 'shard ack not confirmed');
      });
    } catch (err) {
      log.error({ err: describeError(err), runId: shard.runId, seq: shard.seq }, 'shard handed back');
      publisher.abandon();
      entry.controller.abort(err);
      msg.nak(1000);
    } finally {
      clearInterval(lease);
      rate?.release();
    }
  };

  const handle = async (msg: JsMsg): Promise<void> => {
    let shard: ShardMessage;
    try {
      shard = decodeMessage(shardSchema, msg.subject, msg.data);
    } catch (err) {
      log.error({ err: describeError(err), subject: msg.subject }, 'bad shard message terminated');
      msg.term('bad shard message');
      return;
    }
    if (cancelled.has(shard.runId)) {
      // The coordinator gives the targets of unstarted shards of a cancelled run their `cancelled` results.
      msg.ack();
      return;
    }
    const controller = new AbortController();
    let resolveDone!: () => void;
    const entry: ActiveShard = {
      shard,
      controller,
      handback: false,
      done: new Promise<void>((r) => {
        resolveDone = r;
      }),
    };
    active.add(entry);
    try {
      await serveShard(msg, entry);
    } finally {
      active.delete(entry);
      resolveDone();
    }
  };

  const loop = async (slot: number): Promise<void> => {
    while (state === 'running') {
      let msg: JsMsg | null;
      try {
        msg = await consumer.next({ expires: PULL_EXPIRES_MS });
      } catch (err) {
        if (state !== 'running' || nc.isClosed()) return;
        log.warn({ err: describeError(err), slot }, 'pull failed; retrying');
        await delay(500);
        continue;
      }
      if (!msg) continue;
      if (state !== 'running') {
        msg.nak();
        return;
      }
      await handle(msg);
    }
  };
  const loops = Array.from({ length: slots }, (_, i) => loop(i));

  const shutdown = async (graceMs: number): Promise<void> => {
    if (state !== 'running') return closed;
    state = 'draining';
    heartbeat();
    const held = [...active];
    if (held.length > 0 && graceMs > 0) {
      const timer = new Promise<void>((r) => setTimeout(r, graceMs).unref());
      await Promise.race([Promise.all(held.map((a) => a.done)), timer]);
    }
    for (const a of active) {
      a.handback = true;
      a.controller.abort(new CancelledError('worker draining: shard handed back'));
    }
    await Promise.all([...active].map((a) => a.done));
    state = 'stopped';
    clearInterval(heartbeatTimer);
    heartbeat();
    cancelSub.unsubscribe();
    if (ownNc) await nc.drain().catch(() => nc.close());
    await Promise.allSettled(loops);
    log.info({ processed }, 'worker stopped');
    closedResolve();
  };

  log.info({ slots, concurrency, prefix: names.prefix }, 'worker started');
  return {
    stats,
    drain: (graceMs = 10_000) => shutdown(graceMs),
    destroy: () => shutdown(0),
    closed,
  };
}
