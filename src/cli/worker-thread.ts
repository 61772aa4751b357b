/**
 * `fleetprobe worker --threads <n>`: the entry of one worker thread. Each thread is a whole worker
 * (`startWorker`) with its own NATS connection, its own name (`<name>-<i>`, one line each in GET
 * /api/v1/workers) and its own heartbeat; the process's main thread only forwards drain/destroy to them.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { describeError } from '../core/errors.js';
import { startWorker, type WorkerOptions } from '../distributed/worker.js';
import { buildRegistry, closeSharedResources } from './runtime.js';

/** What main passes to a worker thread. */
export type WorkerThreadData = Omit<WorkerOptions, 'registry' | 'log' | 'nc' | 'engine'> & {
  readonly checkModule?: string;
  readonly logLevel: string;
};

/** main -> thread: stop as SIGTERM (drain with a grace) or as a second signal (hand everything back). */
export type WorkerThreadCommand =
  | { readonly t: 'drain'; readonly graceMs: number }
  | { readonly t: 'destroy' };

const port = parentPort as MessagePort;
const { checkModule, logLevel, ...options } = workerData as WorkerThreadData;
const log = pino({ level: logLevel, base: { pid: process.pid } }, pino.destination(2));
const registry = await buildRegistry(checkModule);
const worker = await startWorker({ ...options, registry, log });
port.on('message', (m: WorkerThreadCommand) => {
  const stopping = m.t === 'drain' ? worker.drain(m.graceMs) : worker.destroy();
  stopping.catch((err: unknown) => log.error({ err: describeError(err) }, 'worker stop failed'));
});
port.postMessage('started');
await worker.closed;
await closeSharedResources();
port.close();
