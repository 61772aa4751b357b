export { MODULE_IMPORT_TIMEOUT_MS } from './import-module.js';
export { UserCheckFaultError } from './in-process-guard.js';
export { loadCheckModule } from './load-check-module.js';
export { STALL_KILL_GRACE_MS } from './stall-watchdog.js';
export {
  closeThreadPools,
  getThreadPool,
  THREAD_IDLE_TIMEOUT_MS,
  THREAD_KILL_GRACE_MS,
  ThreadCheckError,
  threadPoolSize,
} from './thread-pool.js';
export { CHECK_NAME_PATTERN, pickCheckExport, type UserCheck } from './validate-check-export.js';
