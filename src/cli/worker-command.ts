import { hostname } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Command } from 'commander';
import pino from 'pino';
import { describeError } from '../core/errors.js';
import { threadModule } from '../core/thread-module.js';
import { assertPrefix } from '../distributed/names.js';
import { startWorker } from '../distributed/worker.js';
import { parseDurationMs, parseIntOption } from './parse-options.js';
import { buildRegistry, closeSharedResources } from './runtime.js';
import { parseThreads } from './threads-option.js';
import type { WorkerThreadCommand, WorkerThreadData } from './worker-thread.js';

interface WorkerFlags {
  nats: string;
  concurrency: string;
  name?: string;
  shards: string;
  natsPrefix: string;
  drainGrace: string;
  ackWait?: string;
  heartbeat: string;
  checkModule?: string;
  threads?: string;
}

/**
 * `fleetprobe worker --nats <url>`: a worker process for distributed runs. Pulls shards from JetStream,
 * runs them with the same engine as a local run, publishes results, acks a shard after its results.
 * SIGTERM/SIGINT drain: no new shards; held shards finish within --drain-grace or are handed back; exit 0.
 * A second signal hands everything back at once. Logs (pino JSON) go to stderr.
 */
export function workerCommand(program: Command): void {
  program
    .command('worker')
    .description('run checks for distributed runs (pulls shards from NATS JetStream)')
    .requiredOption('--nats <url>', 'NATS server URL(s), comma-separated')
    .option('-c, --concurrency <n>', 'checks in flight per shard', '256')
    .option('--name <name>', 'worker name shown in /api/v1/workers (default: <hostname>-<pid>)')
    .option('--shards <n>', 'shards held at once', '2')
    .option(
      '--nats-prefix <prefix>',
      'subject and stream prefix (streams <PREFIX>_SHARDS, _RESULTS, _RUNS); must match the server',
      'fleetprobe',
    )
    .option(
      '--drain-grace <duration>',
      'on SIGTERM, time to finish held shards before handing them back',
      '10s',
    )
    .option(
      '--ack-wait <duration>',
      'shard lease: a silent worker loses its shards after this (must match the server; default 5s)',
    )
    .option('--heartbeat <duration>', 'heartbeat period (liveness in /api/v1/workers)', '2s')
    .option('--check-module <path>', 'also load a user check (the same module must be on every worker)')
    .option(
      '--threads <n>',
      'workers in this process, one per thread, each with its own NATS connection and name <name>-<i> (default: the cores available; 1: one worker named <name>)',
    )
    .action(async (flags: WorkerFlags) => {
      const prefix = assertPrefix(flags.natsPrefix, '--nats-prefix');
      const concurrency = parseIntOption(flags.concurrency, '--concurrency', 1, 100_000);
      const shards = parseIntOption(flags.shards, '--shards', 1, 64);
      const graceMs = parseDurationMs(flags.drainGrace, '--drain-grace');
      const ackWaitMs = flags.ackWait ? parseDurationMs(flags.ackWait, '--ack-wait') : undefined;
      const heartbeatMs = parseDurationMs(flags.heartbeat, '--heartbeat');
      const threads = parseThreads(flags.threads);
      const name = flags.name ?? `${hostname()}-${process.pid}`;
      const log = pino(
        { level: process.env.FLEETPROBE_LOG ?? 'info', base: { pid: process.pid } },
        pino.destination(2),
      );
      const options = {
        natsUrl: flags.nats,
        name,
        concurrency,
        shards,
        prefix,
        heartbeatMs,
        ...(ackWaitMs !== undefined ? { limits: { ackWaitMs } } : {}),
      };
      const worker =
        threads === 1
          ? await startWorker({ ...options, registry: await buildRegistry(flags.checkModule), log })
          : await startWorkerThreads(threads, {
              ...options,
              logLevel: log.level,
              ...(flags.checkModule !== undefined ? { checkModule: flags.checkModule } : {}),
            });
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        signals++;
        log.info({ signal: sig }, signals === 1 ? 'draining' : 'handing back all shards');
        const stopping = signals === 1 ? worker.drain(graceMs) : worker.destroy();
        stopping.catch((err: unknown) => log.error({ err: describeError(err) }, 'worker stop failed'));
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        await worker.closed;
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        await closeSharedResources();
      }
    });
}

/**
 * `--threads <n>`: n workers, one per thread (src/cli/worker-thread.ts), named `<name>-1` .. `<name>-n`. Drain
 * and destroy go to every thread; `closed` resolves when all have stopped (each hands its shards back first).
 */
async function startWorkerThreads(
  n: number,
  options: WorkerThreadData,
): Promise<{ drain(graceMs: number): Promise<void>; destroy(): Promise<void>; closed: Promise<void> }> {
  const entry = threadModule(import.meta.url, './worker-thread.js');
  const threads = Array.from(
    { length: n },
    (_, i) =>
      new Worker(entry.url, {
        argv: entry.argv,
        workerData: { ...options, name: `${options.name}-${i + 1}` },
      }),
  );
  const exits = threads.map((t) => new Promise<void>((resolve) => t.once('exit', () => resolve())));
  const started = threads.map(
    (t) =>
      new Promise<void>((resolve, reject) => {
        t.once('message', () => resolve());
        t.once('error', reject);
        t.once('exit', (code) => reject(new Error(`worker thread exited (code ${code}) before it started`)));
      }),
  );
  try {
    await Promise.all(started);
  } catch (err) {
    await Promise.all(threads.map((t) => t.terminate()));
    throw err;
  }
  const closed = Promise.all(exits).then(() => undefined);
  const tell = (m: WorkerThreadCommand) => {
    for (const t of threads) t.postMessage(m);
    return closed;
  };
  return {
    drain: (graceMs) => tell({ t: 'drain', graceMs }),
    destroy: () => tell({ t: 'destroy' }),
    closed,
  };
}
