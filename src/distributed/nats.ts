import {
  AckPolicy,
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { DistNames } from './names.js';

/**
 * Explicit bounds of every stream and consumer fleetprobe creates: nothing grows without bound.
 * Sizes in bytes, durations in milliseconds.
 */
export interface DistLimits {
  /** Work-queue stream of shards: most bytes held (default 256 MiB). Full -> publishes are refused (discard new). */
  readonly shardsMaxBytes: number;
  /** A shard nobody took within this age is dropped (default 24 h); the coordinator's run then stalls, visibly. */
  readonly shardsMaxAgeMs: number;
  /** Results stream: most bytes (default 1 GiB). Full -> the worker's publish fails and it hands the shard back. */
  readonly resultsMaxBytes: number;
  /** Results not ingested within this age are dropped (default 1 h). */
  readonly resultsMaxAgeMs: number;
  /** Largest message in either stream (default 1 MiB, the server's default max_payload). */
  readonly maxMsgBytes: number;
  /**
   * A worker that neither acks nor calls `working()` for this long loses its shard to another worker
   * (default 5 s). Workers renew their lease every ackWaitMs / 3, so this bounds how long
   * the shards of a killed worker wait before redelivery.
   */
  readonly ackWaitMs: number;
  /** A result message the coordinator neither acks nor stores within this long is redelivered (default 30 s). */
  readonly resultsAckWaitMs: number;
  /** Deliveries of one shard before it is dead-lettered: its targets get `error` results (default 5). */
  readonly maxDeliver: number;
  /** Shards handed out to all workers and not yet acked (default 256). */
  readonly workersMaxAckPending: number;
  /** Result messages of one run delivered to the coordinator and not yet acked (default 64). */
  readonly resultsMaxAckPending: number;
  /** Coordinator cursors: kept this long (default 7 days) and one per run. */
  readonly runsMaxAgeMs: number;
  readonly runsMaxBytes: number;
  /** JetStream de-duplication window for shard publishes (msgID `<runId>:<seq>`; default 2 min). */
  readonly duplicateWindowMs: number;
}

export const DEFAULT_LIMITS: DistLimits = Object.freeze({
  shardsMaxBytes: 256 * 1024 * 1024,
  shardsMaxAgeMs: 24 * 3600_000,
  resultsMaxBytes: 1024 * 1024 * 1024,
  resultsMaxAgeMs: 3600_000,
  maxMsgBytes: 1024 * 1024,
  ackWaitMs: 5000,
  resultsAckWaitMs: 30_000,
  maxDeliver: 5,
  workersMaxAckPending: 256,
  resultsMaxAckPending: 64,
  runsMaxAgeMs: 7 * 24 * 3600_000,
  runsMaxBytes: 64 * 1024 * 1024,
  duplicateWindowMs: 120_000,
});

export function resolveLimits(partial?: Partial<DistLimits>): DistLimits {
  return Object.freeze({ ...DEFAULT_LIMITS, ...partial });
}

/** Connects to NATS (`nats://host:port`, comma-separated for several servers). */
export function connectNats(url: string, name: string): Promise<NatsConnection> {
  return connect({ servers: url.split(',').map((s) => s.trim()), name, maxReconnectAttempts: -1 });
}

async function upsertStream(
  jsm: JetStreamManager,
  config: Parameters<JetStreamManager['streams']['add']>[0],
) {
  const name = config.name as string;
  try {
    await jsm.streams.info(name);
  } catch {
    await jsm.streams.add(config);
    return;
  }
  // Retention cannot change on an existing stream; everything else we set is updatable.
  const { retention: _r, storage: _s, ...rest } = config;
  await jsm.streams.update(name, rest);
}

/**
 * Creates (or updates to the configured limits) the three streams and the workers' consumer:
 * - `<P>_SHARDS`: work-queue retention (a shard leaves the stream when a worker acks it), discard new
 *   (a full queue refuses the coordinator's publish, which backs off; never silently drops a shard).
 * - `<P>_RESULTS`: work-queue retention too, with one filtered consumer per run: a result batch leaves the
 *   stream when the coordinator has stored it; discard new (a full stream pushes back on workers).
 * - `<P>_RUNS`: one message per run subject (the coordinator's resume cursor).
 * - durable pull consumer `<p>-workers`: explicit ack, ack wait, bounded max ack pending and deliveries.
 * Idempotent: every coordinator and worker calls it on start.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  names: DistNames,
  limits: DistLimits,
): Promise<void> {
  await upsertStream(jsm, {
    name: names.shardsStream,
    subjects: [names.allShards],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_bytes: limits.shardsMaxBytes,
    max_age: nanos(limits.shardsMaxAgeMs),
    max_msg_size: limits.maxMsgBytes,
    duplicate_window: nanos(limits.duplicateWindowMs),
    num_replicas: 1,
  });
  await upsertStream(jsm, {
    name: names.resultsStream,
    subjects: [names.allResults],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_bytes: limits.resultsMaxBytes,
    max_age: nanos(limits.resultsMaxAgeMs),
    max_msg_size: limits.maxMsgBytes,
    duplicate_window: nanos(Math.min(limits.duplicateWindowMs, limits.resultsMaxAgeMs)),
    num_replicas: 1,
  });
  await upsertStream(jsm, {
    name: names.runsStream,
    subjects: [names.allRunStates],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: 1,
    max_bytes: limits.runsMaxBytes,
    max_age: nanos(limits.runsMaxAgeMs),
    max_msg_size: limits.maxMsgBytes,
    allow_direct: true,
    num_replicas: 1,
  });
  const workers = {
    durable_name: names.workersConsumer,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(limits.ackWaitMs),
    max_deliver: limits.maxDeliver,
    max_ack_pending: limits.workersMaxAckPending,
    filter_subject: names.allShards,
  };
  try {
    await jsm.consumers.info(names.shardsStream, names.workersConsumer);
    await jsm.consumers.update(names.shardsStream, names.workersConsumer, {
      ack_wait: workers.ack_wait,
      max_deliver: workers.max_deliver,
      max_ack_pending: workers.max_ack_pending,
    });
  } catch {
    await jsm.consumers.add(names.shardsStream, workers);
  }
}

/** Creates the durable consumer of one run's results (idempotent). */
export async function ensureResultsConsumer(
  jsm: JetStreamManager,
  names: DistNames,
  limits: DistLimits,
  runId: string,
): Promise<void> {
  const name = names.resultsConsumer(runId);
  try {
    await jsm.consumers.info(names.resultsStream, name);
  } catch {
    await jsm.consumers.add(names.resultsStream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      ack_wait: nanos(limits.resultsAckWaitMs),
      max_ack_pending: limits.resultsMaxAckPending,
      filter_subject: names.resultSubject(runId),
    });
  }
}

/**
 * Re-creates the durable consumer of one run's results, for a coordinator that resumes the run. A previous
 * coordinator may have left result messages delivered and unacked (it died, or detached with messages
 * buffered); they would stay invisible until their ack wait expired, and a later message of the same shard
 * (its final) could be seen first. Un-acked messages are still in the work-queue stream, so a fresh consumer
 * delivers all of them at once, in stream order.
 */
export async function resetResultsConsumer(
  jsm: JetStreamManager,
  names: DistNames,
  limits: DistLimits,
  runId: string,
): Promise<void> {
  await jsm.consumers.delete(names.resultsStream, names.resultsConsumer(runId)).catch(() => false);
  await ensureResultsConsumer(jsm, names, limits, runId);
}

/** Removes everything of a finished run from JetStream: its results consumer, leftover shards and results. */
export async function dropRun(jsm: JetStreamManager, names: DistNames, runId: string): Promise<void> {
  await jsm.consumers.delete(names.resultsStream, names.resultsConsumer(runId)).catch(() => false);
  await jsm.streams.purge(names.shardsStream, { filter: names.shardSubject(runId) }).catch(() => undefined);
  await jsm.streams.purge(names.resultsStream, { filter: names.resultSubject(runId) }).catch(() => undefined);
}

/** Deletes the three streams (tests, and `fleetprobe` uninstall). */
export async function deleteStreams(jsm: JetStreamManager, names: DistNames): Promise<void> {
  for (const s of [names.shardsStream, names.resultsStream, names.runsStream]) {
    await jsm.streams.delete(s).catch(() => false);
  }
}

export type { NatsConnection };
