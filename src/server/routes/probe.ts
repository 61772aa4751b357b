import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { CheckRegistry } from '../../checks/registry.js';
import type { ConfigHolder } from '../../config/config-holder.js';
import type { Credentials } from '../../config/credentials.js';
import type { ProbeModulesConfig } from '../../config/probe-modules.js';
import { runOne } from '../../engine/run-one.js';
import { systemResolve } from '../../targets/system-resolver.js';
import type { AllowList } from '../allow-list.js';
import { ApiError } from '../errors.js';
import { resolveProbeModules } from '../probe/probe-modules.js';
import { parseProbeTarget, probeTimeoutMs } from '../probe/probe-request.js';
import { renderProbeSeries } from '../probe/probe-series.js';
import { validateRunArgs } from '../validate-run-args.js';

/** Default bound on the probes running at once. */
export const DEFAULT_PROBES_IN_FLIGHT = 256;

export interface ProbeRoutesOptions {
  /** The modules `?module=` may name besides the config file's (`--probe-module`; they win on a name). */
  modules?: ProbeModulesConfig;
  /** `--config`: its `probeModules` are served too, and follow a reload (a bad module rejects the reload). */
  config?: ConfigHolder;
  registry: CheckRegistry;
  credentials: Credentials;
  /** The server's allow-list: targets and address arguments outside it are refused (403). */
  allowList?: AllowList | undefined;
  /** `public` with `--metrics-public`; else `read`. */
  role: 'public' | 'read';
  /**
   * Probes running at once (default 256); beyond, 503 at once. /probe may be public: this bounds the sockets
   * anyone who can reach it can open.
   */
  maxInFlight?: number;
  /** Name resolution (default: the system resolver); timed into `probe_dns_lookup_time_seconds`. */
  resolve?: (name: string, signal: AbortSignal) => Promise<string[]>;
  log?: Logger;
}

/**
 * `GET /probe?module=<name>&target=<addr>`, blackbox_exporter's contract: runs the module's check once
 * against the target through the engine (deadline: see `probeTimeoutMs`) and answers 200 with the
 * probe series in the Prometheus text format, whatever the target did (`probe_success 0` for a down
 * target). 400 for an unknown module or a bad target, 403 outside the allow-list, 503 past `maxInFlight`. A client that goes away
 * cancels the probe. Modules are checked at registration (a bad one throws UsageError).
 */
export const probeRoutes: FastifyPluginAsync<ProbeRoutesOptions> = async (app, opts) => {
  const policy = { allowList: opts.allowList, credentials: opts.credentials };
  const resolveAll = (fromConfig: ProbeModulesConfig | undefined) =>
    resolveProbeModules({ ...fromConfig, ...opts.modules }, opts.registry, policy);
  let modules = resolveAll(opts.config?.current.probeModules);
  const holder = opts.config;
  if (holder) {
    const stopValidating = holder.addValidator((next) => resolveAll(next.probeModules));
    const stopFollowing = holder.onChange((next) => {
      modules = resolveAll(next.probeModules);
    });
    app.addHook('onClose', async () => {
      stopValidating();
      stopFollowing();
    });
  }
  const resolve = opts.resolve ?? systemResolve;
  const maxInFlight = opts.maxInFlight ?? DEFAULT_PROBES_IN_FLIGHT;
  let inFlight = 0;

  app.get('/probe', { config: { role: opts.role } }, async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    const moduleName = typeof query.module === 'string' ? query.module : '';
    const mod = modules.get(moduleName);
    if (!mod) {
      const known = [...modules.keys()].sort().join(', ') || 'none configured; see --probe-module';
      throw new ApiError(
        'bad_request',
        `query.module: unknown module "${moduleName.slice(0, 128)}" (${known})`,
      );
    }
    if (typeof query.target !== 'string' || query.target === '')
      throw new ApiError('bad_request', 'query.target: required');
    const timeoutMs = probeTimeoutMs(mod.timeoutMs, req.headers['x-prometheus-scrape-timeout-seconds']);
    const { target, args: fromTarget } = parseProbeTarget(mod.check.name, query.target, opts.allowList);
    const args = validateRunArgs(mod.check, { ...mod.args, ...fromTarget }, policy);

    if (inFlight >= maxInFlight)
      throw new ApiError('unavailable', `${inFlight} probes are running, the most this server runs at once`);
    inFlight++;
    const gone = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableEnded) gone.abort();
    };
    reply.raw.on('close', onClose);
    let lookupMs = 0;
    try {
      const result = await runOne({
        check: mod.check,
        args,
        target,
        timeoutMs,
        signal: gone.signal,
        resolve: async (name, signal) => {
          const t0 = performance.now();
          try {
            return await resolve(name, signal);
          } finally {
            lookupMs += performance.now() - t0;
          }
        },
        log: opts.log,
      });
      req.log.debug({ module: mod.name, target: query.target, status: result.status }, 'probe');
      return reply
        .type('text/plain; version=0.0.4; charset=utf-8')
        .send(renderProbeSeries(result, { dnsLookupSeconds: lookupMs / 1000 }));
    } finally {
      inFlight--;
      reply.raw.off('close', onClose);
    }
  });
};
