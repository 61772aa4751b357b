export { AllowList } from './allow-list.js';
export { type ApiExecutor, type BuildServerOptions, buildServer, type FleetprobeServer } from './app.js';
export {
  type ApiToken,
  loadTokens,
  MIN_TOKEN_CHARS,
  newToken,
  parseTokens,
  ROLES,
  type Role,
  TokenAuth,
} from './auth.js';
export { AuthThrottle, type AuthThrottleOptions, DEFAULT_AUTH_THROTTLE } from './auth-throttle.js';
export { ApiError, type ApiErrorKind } from './errors.js';
export { Metrics } from './metrics.js';
export { PROBE_HTTP_MAX_BYTES, type ProbeModule } from './probe/probe-modules.js';
export { type ProbeRoutesOptions, probeRoutes } from './routes/probe.js';
export { type MetricsProvider, type SystemRoutesOptions, systemRoutes } from './routes/system.js';
export { RunManager, type RunManagerOptions, type RunProgressView } from './run-manager.js';
export { type RunRequest, runRequestSchema } from './schemas.js';
export { buildServerRegistry } from './server-registry.js';
export {
  DEFAULT_DB,
  DEFAULT_LISTEN,
  parseListen,
  type RunningServer,
  type StartServerOptions,
  startServer,
} from './start.js';
export { type RunArgsPolicy, validateRunArgs } from './validate-run-args.js';
