import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { describeError } from '../core/errors.js';
import { decodeMessage, type Heartbeat, heartbeatSchema } from './messages.js';
import { distNames } from './names.js';

/** One worker as last heard, for GET /api/v1/workers. */
export interface WorkerInfo {
  readonly name: string;
  readonly id: string;
  readonly state: Heartbeat['state'];
  /** Checks in flight at the last heartbeat. */
  readonly inFlight: number;
  readonly shards: number;
  readonly processed: number;
  readonly startedAt: string;
  /** When the coordinator last heard it (ISO-8601; the coordinator's clock). */
  readonly lastSeen: string;
  /** Not heard for 3 heartbeat periods (or it said it stopped). */
  readonly live: boolean;
}

export interface WorkersRegistryOptions {
  readonly nc: NatsConnection;
  readonly prefix?: string;
  readonly log?: Logger;
  /** The workers' heartbeat period (default 2000 ms): a worker is live while heard within 3 periods. */
  readonly heartbeatMs?: number;
  /** Forget a worker not heard for this long (default 10 min): the map stays bounded. */
  readonly forgetAfterMs?: number;
  /** Most workers remembered (default 10,000; the least recently heard are dropped first). */
  readonly maxWorkers?: number;
}

/**
 * Tracks worker heartbeats (`<p>.workers.heartbeat`, plain core NATS). Bad heartbeats are logged and
 * ignored. `close()` unsubscribes.
 */
export class WorkersRegistry {
  readonly #workers = new Map<string, { hb: Heartbeat; seenAt: number }>();
  readonly #sub: Subscription;
  readonly #liveMs: number;
  readonly #forgetMs: number;
  readonly #max: number;

  constructor(options: WorkersRegistryOptions) {
    const names = distNames(options.prefix);
    this.#liveMs = 3 * (options.heartbeatMs ?? 2000);
    this.#forgetMs = options.forgetAfterMs ?? 600_000;
    this.#max = options.maxWorkers ?? 10_000;
    this.#sub = options.nc.subscribe(names.heartbeatSubject, {
      callback: (err, msg) => {
        if (err) return;
        try {
          this.record(decodeMessage(heartbeatSchema, msg.subject, msg.data));
        } catch (e) {
          options.log?.warn({ err: describeError(e) }, 'bad worker heartbeat ignored');
        }
      },
    });
  }

  /** Records a heartbeat (exposed for tests). Keyed by worker name: a restarted worker replaces its entry. */
  record(hb: Heartbeat, now = Date.now()): void {
    this.#workers.delete(hb.name);
    this.#workers.set(hb.name, { hb, seenAt: now });
    for (const [name, w] of this.#workers) {
      if (this.#workers.size <= this.#max && now - w.seenAt < this.#forgetMs) break;
      this.#workers.delete(name);
    }
  }

  /** Every remembered worker, by name. */
  list(now = Date.now()): WorkerInfo[] {
    const out: WorkerInfo[] = [];
    for (const [name, { hb, seenAt }] of this.#workers) {
      if (now - seenAt >= this.#forgetMs) continue;
      const live = hb.state !== 'stopped' && now - seenAt < this.#liveMs;
      out.push({
        name,
        id: hb.id,
        state: hb.state,
        inFlight: live ? hb.inFlight : 0,
        shards: live ? hb.shards : 0,
        processed: hb.processed,
        startedAt: new Date(hb.startedAt).toISOString(),
        lastSeen: new Date(seenAt).toISOString(),
        live,
      });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Live workers only. */
  live(now = Date.now()): WorkerInfo[] {
    return this.list(now).filter((w) => w.live);
  }

  close(): void {
    this.#sub.unsubscribe();
  }
}

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * Prometheus text lines (exposition format 0.0.4) for /metrics: live worker count, and per worker its
 * checks in flight, shards held, results published and last-seen time (unix seconds).
 */
export function workerMetrics(registry: WorkersRegistry, now = Date.now()): string {
  const workers = registry.list(now);
  const lines = [
    '# HELP fleetprobe_workers_live Workers heard within 3 heartbeat periods.',
    '# TYPE fleetprobe_workers_live gauge',
    `fleetprobe_workers_live ${workers.filter((w) => w.live).length}`,
    '# HELP fleetprobe_worker_in_flight Checks in flight on a worker at its last heartbeat.',
    '# TYPE fleetprobe_worker_in_flight gauge',
    ...workers.map((w) => `fleetprobe_worker_in_flight{worker="${esc(w.name)}"} ${w.inFlight}`),
    '# HELP fleetprobe_worker_shards Shards held by a worker at its last heartbeat.',
    '# TYPE fleetprobe_worker_shards gauge',
    ...workers.map((w) => `fleetprobe_worker_shards{worker="${esc(w.name)}"} ${w.shards}`),
    '# HELP fleetprobe_worker_results_total Results a worker published since it started.',
    '# TYPE fleetprobe_worker_results_total counter',
    ...workers.map((w) => `fleetprobe_worker_results_total{worker="${esc(w.name)}"} ${w.processed}`),
    '# HELP fleetprobe_worker_last_seen_seconds When a worker was last heard (unix time).',
    '# TYPE fleetprobe_worker_last_seen_seconds gauge',
    ...workers.map(
      (w) => `fleetprobe_worker_last_seen_seconds{worker="${esc(w.name)}"} ${Date.parse(w.lastSeen) / 1000}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
