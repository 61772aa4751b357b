import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import pino from 'pino';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import {
  createJetStreamExecutor,
  type ExecuteSpec,
  type JetStreamExecutor,
  type JetStreamExecutorOptions,
} from '../../src/distributed/coordinator.js';
import type { Heartbeat } from '../../src/distributed/messages.js';
import { distNames } from '../../src/distributed/names.js';
import { connectNats, deleteStreams, type NatsConnection } from '../../src/distributed/nats.js';
import type { Result } from '../../src/engine/result.js';
import type { Store } from '../../src/store/store.js';
import { intToIpv4, ipv4ToInt } from '../../src/targets/ip.js';
import type { Target } from '../../src/targets/target.js';
import { NATS_URL } from '../helpers/services.js';

export const silent = pino({ level: process.env.FLEETPROBE_TEST_LOG ?? 'silent' });
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A prefix of our own, so parallel test files never share a stream; `cleanup()` deletes the streams. */
export async function natsFixture(): Promise<{
  prefix: string;
  nc: NatsConnection;
  cleanup(): Promise<void>;
}> {
  const prefix = `fpt${randomBytes(4).toString('hex')}`;
  const nc = await connectNats(NATS_URL, `test-${prefix}`);
  return {
    prefix,
    nc,
    async cleanup() {
      await deleteStreams(await jetstreamManager(nc), distNames(prefix));
      await nc.close();
    },
  };
}

/** `count` loopback targets from `base` (e.g. 127.22.0.0), all on `port`, streamed lazily. */
export async function* loopbackTargets(base: string, count: number, port?: number): AsyncGenerator<Target> {
  const start = ipv4ToInt(base);
  for (let i = 0; i < count; i++) {
    yield port === undefined
      ? { address: intToIpv4(start + i), labels: {} }
      : { address: intToIpv4(start + i), port, labels: {} };
  }
}

/**
 * A coordinator as the distributed tests run it: the built-in checks, shards of 32 targets, a window of 8 shards.
 * `limits.ackWaitMs` must match the workers' `--ack-wait` (both default to 5 s).
 */
export function testExecutor(
  nats: { nc: NatsConnection; prefix: string },
  limits?: JetStreamExecutorOptions['limits'],
): Promise<JetStreamExecutor> {
  return createJetStreamExecutor({
    nc: nats.nc,
    log: silent,
    prefix: nats.prefix,
    ...(limits ? { limits } : {}),
    registry: createBuiltinRegistry(),
    shardSize: 32,
    window: 8,
  });
}

/** Calls `onBeat` with every worker heartbeat under the prefix; the returned function unsubscribes. */
export function watchHeartbeats(
  nats: { nc: NatsConnection; prefix: string },
  onBeat: (hb: Heartbeat) => void,
): () => Promise<void> {
  const sub = nats.nc.subscribe(`${nats.prefix}.workers.heartbeat`, {
    callback: (_err, msg) => onBeat(msg.json<Heartbeat>()),
  });
  return async () => sub.unsubscribe();
}

const tcp = createBuiltinRegistry().get('tcp');

export function newRunId(): string {
  return `r${randomUUID().replace(/-/g, '')}`;
}

/** The run most distributed tests execute: the tcp check on `total` loopback targets from `base`. */
export function tcpRun(opts: {
  port: number;
  base: string;
  total: number;
  concurrency: number;
  timeoutMs?: number;
  expectBanner?: string;
}): ExecuteSpec {
  return {
    check: tcp,
    args: tcp.args.parse({
      port: opts.port,
      ...(opts.expectBanner ? { expectBanner: opts.expectBanner } : {}),
    }),
    targets: loopbackTargets(opts.base, opts.total),
    total: opts.total,
    concurrency: opts.concurrency,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    retries: 0,
  };
}

/** A listener on 0.0.0.0:<port 0>: reachable on every 127.x.y.z. `tarpit` keeps sockets open and silent. */
export async function loopbackListener(
  mode: 'close' | 'tarpit' | 'banner',
  bannerDelayMs = 0,
): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    if (mode === 'close') socket.end();
    if (mode === 'banner') setTimeout(() => socket.end('SSH-2.0-sim\r\n'), bannerDelayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface WorkerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code (or signal name). */
  readonly exited: Promise<number | string>;
  /** Lines the worker logged (pino JSON on stderr). */
  readonly logs: string[];
}

/**
 * Spawns the real `worker` subcommand in a child process and waits until it logged "worker started"
 * (an explicit handshake: its consumer exists and it is pulling). `threads`: its `--threads` (default 1: one
 * worker named `name`; `cores`: none given, so one per core).
 */
export async function spawnWorker(
  prefix: string,
  name: string,
  extra: string[] = [],
  threads: number | 'cores' = 1,
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/distributed/worker-process.ts',
      'worker',
      '--nats',
      NATS_URL,
      '--nats-prefix',
      prefix,
      '--name',
      name,
      ...(threads === 'cores' ? [] : ['--threads', String(threads)]),
      ...extra,
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, FLEETPROBE_LOG: 'info' } },
  );
  const logs: string[] = [];
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
  });
  let buf = '';
  const started = new Promise<void>((resolve, reject) => {
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      buf += chunk;
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        logs.push(line);
        if (line.includes('"worker started"')) resolve();
        i = buf.indexOf('\n');
      }
    });
    void exited.then((code) =>
      reject(new Error(`worker ${name} exited (${code}) before starting:\n${logs.join('\n')}${buf}`)),
    );
  });
  await started;
  return { name, child, exited, logs };
}

export async function stopWorkers(workers: readonly WorkerProcess[]): Promise<void> {
  for (const w of workers)
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  await Promise.all(workers.map((w) => w.exited));
}

/**
 * What the server's RunManager does with an executor's results: store each batch before pulling more.
 * Stores every result as it comes (so a result message is acked only after its rows exist).
 */
export async function ingest(
  results: AsyncIterable<Result>,
  store: Store,
  onResult?: (r: Result, n: number) => void | Promise<void>,
): Promise<number> {
  let n = 0;
  for await (const r of results) {
    await store.insertResults([r]);
    n++;
    await onResult?.(r, n);
  }
  return n;
}
