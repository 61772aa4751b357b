import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { CheckRegistry } from '../checks/registry.js';
import type { ConfigHolder } from '../config/config-holder.js';
import { type Credentials, emptyCredentials } from '../config/credentials.js';
import type { ProbeModulesConfig } from '../config/probe-modules.js';
import type { Executor } from '../engine/executor.js';
import { renderOverloadMetrics } from '../engine/overload.js';
import { BadFilterError, CursorError, StoreError } from '../store/errors.js';
import type { Store } from '../store/store.js';
import { makeResolver } from '../targets/make-resolver.js';
import { AllowList } from './allow-list.js';
import { type ApiToken, type Role, roleAllows, TokenAuth } from './auth.js';
import { AuthThrottle, type AuthThrottleOptions } from './auth-throttle.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { ApiError } from './errors.js';
import { alertsRoutes } from './routes/alerts.js';
import { configRoutes } from './routes/config.js';
import { monitorHeatmapRoutes } from './routes/monitor-heatmap.js';
import { monitorsRoutes } from './routes/monitors.js';
import { probeRoutes } from './routes/probe.js';
import { resultsRoutes } from './routes/results.js';
import { runsRoutes } from './routes/runs.js';
import { type MetricsProvider, systemRoutes } from './routes/system.js';
import { RunManager, type RunManagerOptions } from './run-manager.js';
import { ServerAlerts, type ServerAlertsOptions } from './server-alerts.js';
import { ServerMonitors } from './server-monitors.js';
import { buildServerRegistry } from './server-registry.js';
import { DEFAULT_MAX_SSE_STREAMS, SseSlots } from './sse.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: `public`, `read` (GET) or `operate` (POST). Routes without it need `operate`. */
    role?: Role | 'public';
  }
}

/** An executor as the API uses it: the engine's port plus optional routes and /metrics lines (distributed mode). */
export interface ApiExecutor extends Executor {
  /** Extra Prometheus lines for /metrics (distributed mode: worker liveness). */
  metrics?(): string;
  /** Extra read-role routes (distributed mode: GET /api/v1/workers). */
  routes?: FastifyPluginAsync;
}

export interface BuildServerOptions {
  store: Store;
  /** Bearer tokens. None: every request is allowed (the caller must bind to loopback only; startServer does). */
  auth: { tokens: readonly ApiToken[] };
  /** CIDR blocks runs may target (403 otherwise). */
  allowTargets?: readonly string[];
  /** Runs executing at once (default 4). */
  maxConcurrentRuns?: number;
  executor?: ApiExecutor;
  /** This process's lease on its runs, in ms (default 30 s). */
  leaseTtlMs?: number;
  /** Default: the built-in checks plus `credentials.checkModules`, loaded now. */
  registry?: CheckRegistry;
  /** Named server-side files (SSH identities, known_hosts stores, CA bundles, check modules); default none. */
  credentials?: Credentials;
  log?: Logger;
  /** Largest request body in bytes (default 1 MiB). */
  bodyLimit?: number;
  sseIntervalMs?: number;
  /** Event streams (GET /runs/:id/events) open at once; more get 503 (default 256). */
  maxSseStreams?: number;
  /** Per-client slowdown of failed authentication (defaults: `DEFAULT_AUTH_THROTTLE`). */
  authThrottle?: Partial<AuthThrottleOptions>;
  version?: string;
  /** `--config`: serves `GET /api/v1/config` and `POST /api/v1/config/reload`. */
  config?: ConfigHolder;
  /**
   * blackbox_exporter-style modules for `GET /probe` besides the config file's `probeModules` (which follow a
   * reload): `--probe-module`, which wins on a name. Default none.
   */
  probeModules?: ProbeModulesConfig;
  /** `--metrics-public`: /metrics and /probe need no token (default: role read). */
  metricsPublic?: boolean;
  /** More parts of /metrics, after the runs' and the executor's (per-monitor gauges...). */
  metricsProviders?: readonly MetricsProvider[];
  /** Told every batch of every run's results once stored (`--search-index`); see `RunManagerOptions`. */
  onStored?: RunManagerOptions['onStored'];
  /** Alerting: `--metrics-label` and its cap, dispatcher tuning (tests). Rules, notifiers, silences: `config`. */
  alerts?: Pick<ServerAlertsOptions, 'metricsLabel' | 'metricsLabelCap' | 'dispatcher'>;
  /** Monitors: history retention. Config monitors come from `config`, API-defined ones from the store. */
  monitors?: {
    /** Raw results kept for this many most recent rounds of each monitor (default 10). */
    keepRounds?: number;
    /** Transitions kept this long, in ms (default 90 days). */
    transitionsKeepMs?: number;
  };
}

export interface FleetprobeServer {
  app: FastifyInstance;
  manager: RunManager;
  /** The monitors; stop them before `manager.close()` so their running rounds end `interrupted`. */
  monitors: ServerMonitors;
  /** Alert evaluation after each committed round, and delivery through the outbox. */
  alerts: ServerAlerts;
}

/**
 * Builds the API (not listening yet): marks runs left over by a dead process `interrupted`, registers the
 * routes as encapsulated plugins, auth as a root onRequest hook (401 without or with an unknown token, 403
 * for a read token on an operate route, 429 + Retry-After for a client past its budget of failed
 * authentications: `AuthThrottle`), and one error format: `{error, message}`. `app.close()` also
 * shuts the RunManager down (runs cancelled at once: call `manager.close({graceMs})` first for a grace period).
 * The store stays open: its owner closes it.
 */
export async function buildServer(opts: BuildServerOptions): Promise<FleetprobeServer> {
  const credentials = opts.credentials ?? emptyCredentials();
  const built = opts.registry ? undefined : await buildServerRegistry(credentials);
  const manager = new RunManager({
    store: opts.store,
    registry: opts.registry ?? built!.registry,
    credentials,
    maxConcurrentRuns: opts.maxConcurrentRuns ?? 4,
    leaseTtlMs: opts.leaseTtlMs,
    onStored: opts.onStored,
    ...(opts.executor ? { executor: opts.executor } : {}),
    ...(opts.allowTargets ? { allowTargets: opts.allowTargets } : {}),
    ...(opts.log ? { log: opts.log } : {}),
  });
  await manager.start();
  const alerts = new ServerAlerts({
    ...opts.alerts,
    store: opts.store.alerts,
    config: opts.config?.current,
    log: opts.log,
  });
  const monitors = new ServerMonitors({
    store: opts.store,
    registry: manager.registry,
    executor: manager.executor,
    owner: () => manager.ownerId,
    allowList: manager.allow,
    credentials,
    metrics: manager.metrics,
    config: opts.config?.current,
    resolverFor: makeResolver,
    onStored: opts.onStored,
    keepRounds: opts.monitors?.keepRounds,
    transitionsKeepMs: opts.monitors?.transitionsKeepMs,
    onRoundCommitted: alerts.onRoundCommitted,
    onSpecs: (specs) => alerts.setMonitorSpecs(specs),
    log: opts.log,
  });
  try {
    await monitors.start();
  } catch (err) {
    await monitors.stop();
    await alerts.stop();
    await manager.close({ graceMs: 0 });
    throw err;
  }
  // A reloaded config swaps the config monitors in; unchanged monitors keep running untouched.
  const stopFollowing = opts.config?.onChange((next) => {
    monitors.setConfig(next).catch((err: unknown) => opts.log?.error({ err }, 'monitors not reloaded'));
    alerts.setConfig(next);
  });
  alerts.start();
  const auth = new TokenAuth(opts.auth.tokens);
  const throttle = new AuthThrottle(opts.authThrottle);
  const app = Fastify({
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    forceCloseConnections: true,
    ...(opts.log ? { loggerInstance: opts.log } : { logger: false }),
  });

  app.addHook('onRequest', async (req) => {
    const need = req.routeOptions.config.role ?? 'operate';
    if (need === 'public' || !auth.enabled) return;
    const waitMs = throttle.retryAfterMs(req.ip);
    if (waitMs > 0) {
      const seconds = Math.ceil(waitMs / 1000);
      throw new ApiError('too_many_requests', `too many failed authentications; retry in ${seconds} s`, {
        headers: { 'retry-after': String(seconds) },
      });
    }
    const role = auth.roleOf(req.headers.authorization);
    if (!role) {
      throttle.failed(req.ip);
      throw new ApiError('unauthorized', 'a valid "Authorization: Bearer <token>" header is required');
    }
    if (!roleAllows(role, need))
      throw new ApiError('forbidden', `this route needs a token with role "${need}"`);
  });

  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (err instanceof ApiError)
      return reply.code(err.statusCode).headers(err.headers).send({ error: err.kind, message: err.message });
    if (err instanceof CursorError)
      return reply.code(400).send({ error: 'bad_request', message: `query.cursor: ${err.message}` });
    if (err instanceof BadFilterError)
      return reply.code(400).send({ error: 'bad_request', message: `query.${err.message}` });
    if (err instanceof StoreError) {
      req.log.error({ err }, 'store failure');
      return reply.code(503).send({ error: 'unavailable', message: err.message });
    }
    const status = (err as FastifyError).statusCode;
    if (status === 413)
      return reply.code(413).send({ error: 'payload_too_large', message: `body: ${err.message}` });
    if (status !== undefined && status >= 400 && status < 500) {
      return reply
        .code(status)
        .send({ error: status === 404 ? 'not_found' : 'bad_request', message: `body: ${err.message}` });
    }
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error' });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: 'not_found', message: `no route ${req.method} ${req.url.split('?')[0]}` }),
  );

  const metrics: MetricsProvider[] = [
    () => manager.metrics.render({ active: manager.active(), inFlight: manager.inFlight() }),
    renderOverloadMetrics, // event-loop stalls and lag, checks re-run after a stalled deadline
  ];
  const executor = opts.executor;
  if (executor?.metrics) metrics.push(() => executor.metrics?.() ?? '');
  metrics.push(() => monitors.metricsText());
  metrics.push(() => alerts.metricsText(new Set(monitors.manager.status().map((s) => s.name))));
  metrics.push(...(opts.metricsProviders ?? []));
  const metricsRole = opts.metricsPublic ? 'public' : 'read';
  try {
    await app.register(systemRoutes, { manager, version: opts.version ?? '0.1.0', metrics, metricsRole });
    await app.register(probeRoutes, {
      modules: opts.probeModules,
      config: opts.config,
      registry: opts.registry ?? built!.registry,
      credentials,
      allowList: opts.allowTargets?.length ? new AllowList(opts.allowTargets) : undefined,
      role: metricsRole,
      log: opts.log,
    });
    await app.register(runsRoutes, {
      prefix: '/api/v1',
      manager,
      ...(opts.sseIntervalMs !== undefined ? { sseIntervalMs: opts.sseIntervalMs } : {}),
      sseSlots: new SseSlots(opts.maxSseStreams ?? DEFAULT_MAX_SSE_STREAMS),
    });
    if (opts.config) await app.register(configRoutes, { prefix: '/api/v1', holder: opts.config });
    await app.register(monitorsRoutes, { prefix: '/api/v1', monitors, store: opts.store });
    await app.register(monitorHeatmapRoutes, { prefix: '/api/v1', monitors });
    await app.register(alertsRoutes, {
      prefix: '/api/v1',
      store: opts.store.alerts,
      configSilences: () => alerts.configSilences,
    });
    await app.register(resultsRoutes, { prefix: '/api/v1', manager });
    await app.register(dashboardRoutes);
    if (opts.executor?.routes) await app.register(opts.executor.routes);
  } catch (err) {
    // A bad probe module (or any plugin) fails the build: release what was started.
    stopFollowing?.();
    await monitors.stop();
    await alerts.stop();
    await manager.close({ graceMs: 0 });
    await opts.executor?.close?.();
    throw err;
  }
  app.addHook('onClose', async () => {
    stopFollowing?.();
    await monitors.stop();
    await alerts.stop();
    await manager.close({ graceMs: 0 });
    await opts.executor?.close?.();
    if (built?.loadedModules) await (await import('../checks/user/index.js')).closeThreadPools();
  });
  return { app: app as unknown as FastifyInstance, manager, monitors, alerts };
}
