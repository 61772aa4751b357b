import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import { createBuiltinRegistry } from '../checks/builtins.js';
import type { Executor } from '../engine/executor.js';
import type { Result } from '../engine/result.js';
import { createJetStreamExecutor, type JetStreamExecutor } from './coordinator.js';
import { connectNats, type DistLimits, type NatsConnection } from './nats.js';
import { WorkersRegistry, workerMetrics } from './workers-registry.js';
import { workersRoutes } from './workers-routes.js';

/**
 * The coordinator as the server uses it: the engine's `Executor` port (runs with a saved cursor are
 * resumable; `detach()` leaves runs in progress to the next server; batches are acked once `onStored` reports
 * them with `ackOn: 'stored'`), plus the workers' registry for GET /api/v1/workers and /metrics.
 */
export interface ServerExecutor extends Executor {
  resumableRuns(): Promise<string[]>;
  onStored(runId: string, results: readonly Result[]): void;
  detach(): Promise<void>;
  /** Worker liveness for GET /api/v1/workers (`workersRoutes`) and /metrics (`metrics()`). */
  readonly workers: WorkersRegistry;
  /** Prometheus lines about workers, to append to /metrics. */
  metrics(): string;
  /** GET /api/v1/workers. */
  routes: FastifyPluginAsync;
  readonly coordinator: JetStreamExecutor;
  /** Detaches runs in progress (they stay resumable), stops the registry, closes the NATS connection. */
  close(): Promise<void>;
}

export interface ServerExecutorOptions {
  readonly nats: string;
  readonly log: Logger;
  readonly prefix?: string;
  readonly limits?: Partial<DistLimits>;
  readonly ackOn?: 'pull' | 'stored';
}

/**
 * Builds the distributed executor for `fleetprobe server --nats <url>` (loaded by src/server/start.ts
 * in distributed mode).
 */
export async function createServerExecutor(options: ServerExecutorOptions): Promise<ServerExecutor> {
  const nc: NatsConnection = await connectNats(options.nats, 'fleetprobe-coordinator');
  try {
    const workers = new WorkersRegistry({
      nc,
      log: options.log,
      ...(options.prefix ? { prefix: options.prefix } : {}),
    });
    const coordinator = await createJetStreamExecutor({
      nc,
      log: options.log.child({ component: 'coordinator' }),
      registry: createBuiltinRegistry(),
      liveWorkers: () => workers.live().length,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.ackOn ? { ackOn: options.ackOn } : {}),
    });
    options.log.info({ nats: options.nats }, 'distributed mode: runs execute on workers');
    let closing: Promise<void> | undefined;
    return {
      execute: (run, spec, signal) => coordinator.execute(run, spec, signal),
      onStored: (runId, results) => coordinator.onStored(runId, results),
      resumableRuns: () => coordinator.resumableRuns(),
      detach: () => coordinator.close(),
      workers,
      metrics: () => workerMetrics(workers),
      routes: async (app) => {
        await app.register(workersRoutes, { registry: workers });
      },
      coordinator,
      close() {
        closing ??= (async () => {
          await coordinator.close();
          workers.close();
          await nc.drain().catch(() => nc.close());
        })();
        return closing;
      },
    };
  } catch (err) {
    await nc.close();
    throw err;
  }
}
