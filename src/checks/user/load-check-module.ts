import { resolve as resolvePath } from 'node:path';
import { importUserModule } from './import-module.js';
import { guardInProcess } from './in-process-guard.js';
import { runInThread, THREAD_POOL_SIZE, warmThreadPool } from './thread-pool.js';
import { pickCheckExport, type UserCheck } from './validate-check-export.js';

/**
 * Loads a user check for `--check-module <path>`: `path` is resolved against the current directory;
 * `.ts` is loaded with tsx, `.js`/`.mjs` with `import()`. The module's default export (or a named `check`)
 * must be `defineCheck({ name, args, timeoutMs, run, isolate? })` or the same plain object.
 *
 * Without `isolate`, the check runs in this process under a guard: its unhandled rejections, uncaught
 * exceptions and `process.exit()` calls become its target's `error`, and a busy loop far past its deadline
 * ends the process with a message (see in-process-guard.ts). With `isolate: 'thread'` the returned check is a wrapper whose `run()` executes the module's `run()` in
 * a worker thread of the shared pool (the module is imported there too, so its top-level code runs in the
 * parent and once per thread). Targets, arguments and observations must be structured-cloneable, and
 * `ctx.resolve` is not available in the thread. Call `closeThreadPools()` at the end of the run.
 *
 * @throws UsageError (code FP_USAGE), one line naming the file: missing file, syntax error, a throw while
 *   the module loads, or an export that is not a valid check.
 */
export async function loadCheckModule(path: string): Promise<UserCheck> {
  const absPath = resolvePath(process.cwd(), path);
  const check = pickCheckExport(await importUserModule(absPath, path), path);
  if (check.isolate !== 'thread') return guardInProcess(check);
  const wrapper: UserCheck = {
    name: check.name,
    description: check.description,
    args: check.args,
    timeoutMs: check.timeoutMs,
    isolate: 'thread',
    // A pool thread runs one check at a time; more in flight would queue, spending their deadlines waiting.
    maxInFlight: THREAD_POOL_SIZE,
    argRoles: check.argRoles,
    ...(check.needsAddress !== undefined ? { needsAddress: check.needsAddress } : {}),
    ...(check.defaultPort !== undefined ? { defaultPort: check.defaultPort } : {}),
    prepare: (signal) => warmThreadPool(absPath, path, signal),
    run: (target, args, ctx) => runInThread(absPath, path, target, args, ctx),
  };
  return Object.freeze(wrapper);
}
