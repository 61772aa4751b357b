export { loadCheckModule } from './load-check-module.js';
export {
  closeThreadPools,
  getThreadPool,
  THREAD_IDLE_TIMEOUT_MS,
  THREAD_KILL_GRACE_MS,
  ThreadCheckError,
  threadPoolSize,
} from './thread-pool.js';
export { CHECK_NAME_PATTERN, pickCheckExport, type UserCheck } from './validate-check-export.js';
