import type { Logger } from 'pino';
import pino from 'pino';
import type { ConfigHolder } from '../config/config-holder.js';
import { type Credentials, checkCredentialFiles, emptyCredentials } from '../config/credentials.js';
import type { ProbeModulesConfig } from '../config/probe-modules.js';
import { UsageError } from '../core/errors.js';
import { resultDocument } from '../sinks/search/document.js';
import { describeSearchIndexStats, notIndexed, type SearchIndexSink } from '../sinks/search-index-sink.js';
import { startRetention } from '../store/retention.js';
import { openStore, type Store } from '../store/store.js';
import { type ApiExecutor, type BuildServerOptions, buildServer, type FleetprobeServer } from './app.js';
import type { ApiToken } from './auth.js';
import { ListenError } from './errors.js';

export const DEFAULT_LISTEN = '127.0.0.1:7070';
export const DEFAULT_DB = './fleetprobe.db';

export interface StartServerOptions {
  /** `host:port` or `[v6]:port` or `port` (default 127.0.0.1:7070). */
  listen?: string;
  /** Store URL (default ./fleetprobe.db: SQLite, WAL, no setup). */
  db?: string;
  tokens?: readonly ApiToken[];
  allowTargets?: readonly string[];
  /** Named server-side files API runs may use; checked at start (a bad entry throws `UsageError`). */
  credentials?: Credentials;
  maxConcurrentRuns?: number;
  /** Event streams open at once; more get 503 (default 256). */
  maxSseStreams?: number;
  /** Retention: delete runs and monitor transitions older than this many ms, checked hourly (transitions: 90 days by default). */
  keepMs?: number;
  /** Raw results kept for this many most recent rounds of each monitor (default 10). */
  keepRounds?: number;
  /** This process's lease on the runs it executes, in ms (default 30 s; env FLEETPROBE_LEASE in the CLI). */
  leaseTtlMs?: number;
  /** NATS URL for distributed mode: runs execute on `fleetprobe worker`s through JetStream. */
  nats?: string;
  /**
   * Worker threads API runs and monitor rounds are sharded over (`ThreadExecutor`; default 1: this thread
   * only). Ignored in distributed mode (`nats`), where runs execute on workers.
   */
  threads?: number;
  /** Subject and stream prefix in distributed mode (default `fleetprobe`); workers must use the same. */
  natsPrefix?: string;
  /** Builds the distributed executor from `nats` (default: the JetStream coordinator; tests pass their own). */
  createExecutor?: (ctx: { nats: string; prefix: string; store: Store; log: Logger }) => Promise<ApiExecutor>;
  log?: Logger;
  /** The `--config` file, already loaded (a bad file must stop the start before anything listens). */
  config?: ConfigHolder;
  /** Modules for `GET /probe` (blackbox_exporter-compatible); default none. */
  probeModules?: ProbeModulesConfig;
  /** /metrics and /probe without a token (default: role read). */
  metricsPublic?: boolean;
  /**
   * `--search-index`: every run's results, once stored, are written to this sink (a slow index slows runs).
   * The server closes it on shutdown, after the runs, within the grace period, and logs its stats.
   */
  searchIndex?: SearchIndexSink;
  /** Alerting: `--metrics-label` and its cap; dispatcher tuning (tests). */
  alerts?: BuildServerOptions['alerts'];
}

export interface RunningServer extends FleetprobeServer {
  store: Store;
  /** e.g. http://127.0.0.1:7070 */
  url: string;
  /** The `searchIndex` sink, for other streams to feed (monitor transitions). */
  searchIndex?: SearchIndexSink;
  /**
   * Graceful shutdown: stop accepting runs, give running ones `graceMs` (default 10 s) to finish, cancel the
   * rest, write their final state, stop listening, close the store. Idempotent.
   */
  close(opts?: { graceMs?: number }): Promise<void>;
}

export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))?:?(\d+)$/.exec(text.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--listen: "${text}" is not host:port (e.g. 127.0.0.1:7070)`);
  }
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/**
 * Opens the store, builds the API and listens. Without any token the server binds 127.0.0.1 only, whatever
 * `listen` says, and logs a warning saying so.
 */
export async function startServer(opts: StartServerOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? pino({ level: 'info' });
  const credentials = opts.credentials ?? emptyCredentials();
  await checkCredentialFiles(credentials);
  let { host, port } = parseListen(opts.listen ?? DEFAULT_LISTEN);
  const tokens = opts.tokens ?? [];
  const askedHost = host;
  if (tokens.length === 0) host = '127.0.0.1';
  const searchIndex = opts.searchIndex;
  const closeSearchIndex = async (timeoutMs: number) => {
    if (!searchIndex) return;
    const stats = await searchIndex.close({ timeoutMs });
    const line = `search index: ${describeSearchIndexStats(stats)}`;
    if (notIndexed(stats) > 0) log.warn({ searchIndex: stats }, line);
    else log.info({ searchIndex: stats }, line);
  };
  let store: Store;
  try {
    store = await openStore(opts.db ?? DEFAULT_DB, { log });
  } catch (err) {
    await closeSearchIndex(0);
    throw err;
  }
  let server: FleetprobeServer;
  try {
    const createExecutor = opts.createExecutor ?? createJetStreamServerExecutor;
    const prefix = opts.natsPrefix ?? 'fleetprobe';
    const executor = opts.nats
      ? await createExecutor({ nats: opts.nats, prefix, store, log })
      : await createThreadExecutor(opts.threads ?? 1, log);
    server = await buildServer({
      store,
      auth: { tokens },
      log,
      credentials,
      leaseTtlMs: opts.leaseTtlMs,
      config: opts.config,
      probeModules: opts.probeModules,
      metricsPublic: opts.metricsPublic,
      onStored: searchIndex
        ? (batch) =>
            searchIndex
              .writeAll(batch.map(resultDocument))
              .catch((err: unknown) => log.error({ err }, 'search index: results not written')) // closed sink
        : undefined,
      alerts: opts.alerts,
      monitors: { keepRounds: opts.keepRounds, transitionsKeepMs: opts.keepMs },
      ...(opts.allowTargets ? { allowTargets: opts.allowTargets } : {}),
      ...(opts.maxConcurrentRuns ? { maxConcurrentRuns: opts.maxConcurrentRuns } : {}),
      ...(opts.maxSseStreams ? { maxSseStreams: opts.maxSseStreams } : {}),
      ...(executor ? { executor } : {}),
    });
    try {
      await server.app.listen({ host, port });
    } catch (err) {
      await server.app.close().catch(() => {});
      throw new ListenError(`${host.includes(':') ? `[${host}]` : host}:${port}`, err);
    }
  } catch (err) {
    await store.close();
    await closeSearchIndex(0);
    throw err;
  }
  // Said once listening, so that a server that cannot start prints only the reason why.
  if (tokens.length === 0) {
    if (!LOOPBACK.has(askedHost))
      log.warn({ asked: askedHost }, 'no API token configured: listening on 127.0.0.1 only');
    else log.warn('no API token configured: the API is open to local users; listening on 127.0.0.1 only');
  }
  const retention = opts.keepMs ? startRetention(store, opts.keepMs, { log }) : undefined;
  if (retention) void retention.sweep();
  const address = server.app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  log.info(
    {
      url,
      db: store.dialect,
      allowTargets: opts.allowTargets ?? 'any',
      credentials: Object.fromEntries(Object.entries(credentials).map(([k, v]) => [k, Object.keys(v)])),
    },
    'fleetprobe server listening',
  );

  let closing: Promise<void> | undefined;
  return {
    ...server,
    store,
    url,
    searchIndex,
    close(closeOpts = {}) {
      closing ??= (async () => {
        retention?.stop();
        // Monitors first: their running rounds end `interrupted` (no transition) before the lease ends.
        await server.monitors.stop();
        await server.manager.close({ graceMs: closeOpts.graceMs ?? 10_000 });
        await closeSearchIndex(closeOpts.graceMs ?? 10_000);
        await server.app.close();
        await store.close();
      })();
      return closing;
    },
  };
}

/** `--threads` above 1: runs are sharded over worker threads (loaded only then); else the default in-process executor. */
async function createThreadExecutor(threads: number, log: Logger): Promise<ApiExecutor | undefined> {
  if (threads <= 1) return undefined;
  const { ThreadExecutor } = await import('../distributed/thread-executor.js');
  return new ThreadExecutor({ threads, log });
}

/** The JetStream coordinator, loaded only in distributed mode; it acks result messages once they are stored. */
async function createJetStreamServerExecutor(ctx: {
  nats: string;
  prefix: string;
  log: Logger;
}): Promise<ApiExecutor> {
  const { createServerExecutor } = await import('../distributed/server-executor.js');
  return createServerExecutor({ nats: ctx.nats, prefix: ctx.prefix, log: ctx.log, ackOn: 'stored' });
}
