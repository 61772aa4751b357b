import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../../core/errors.js';
import { providePackagesToUserChecks } from './package-fallback.js';

/**
 * How long a user module may take to load (its top-level code, including top-level await), ms; default
 * 10 s, `FLEETPROBE_IMPORT_TIMEOUT_MS` overrides it.
 */
export const MODULE_IMPORT_TIMEOUT_MS = 10_000;

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);
const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/**
 * Imports a user module by absolute path: TypeScript through tsx's ESM API (a fresh tsx namespace per call,
 * so the module is evaluated again), JavaScript with plain `import()` (cached by Node).
 * `file` is the path as the user gave it, for messages. A missing file, an unknown extension, a syntax error
 * or a throw while the module evaluates become a one-line `UsageError` naming `file` (the cause is kept).
 * `fleetprobe` and `zod` resolve for a module anywhere on disk (see package-fallback.ts).
 * So does a module that does not finish loading: at once when its top-level await can never settle (the
 * event loop ran out of work), else after MODULE_IMPORT_TIMEOUT_MS.
 */
export async function importUserModule(absPath: string, file: string): Promise<Record<string, unknown>> {
  const ext = extname(absPath).toLowerCase();
  if (!TS_EXTENSIONS.has(ext) && !JS_EXTENSIONS.has(ext)) {
    throw new UsageError(`${file}: not a .ts or .js module`);
  }
  const info = await stat(absPath).catch(() => undefined);
  if (!info?.isFile()) throw new UsageError(`${file}: no such file`);
  const url = pathToFileURL(absPath).href;
  providePackagesToUserChecks();
  const loading = (async () => {
    try {
      if (TS_EXTENSIONS.has(ext)) {
        const { tsImport } = await import('tsx/esm/api');
        return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
      }
      return (await import(url)) as Record<string, unknown>;
    } catch (err) {
      throw new UsageError(`${file}: cannot load module: ${firstLine(err)}`, { cause: err });
    }
  })();
  return withImportDeadline(loading, file, importTimeoutMs());
}

function importTimeoutMs(): number {
  const value = Number(process.env.FLEETPROBE_IMPORT_TIMEOUT_MS);
  return Number.isInteger(value) && value > 0 ? value : MODULE_IMPORT_TIMEOUT_MS;
}

/**
 * Races a module import against its deadline. The timer is unref'd: a top-level await waiting on nothing
 * lets the event loop run dry, and Node would then exit silently (status 13); `beforeExit` catches exactly
 * that moment. A top-level await waiting on something live (a socket, an interval) hits the timer.
 */
function withImportDeadline<T>(loading: Promise<T>, file: string, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fail = (message: string) => {
      finish();
      reject(new UsageError(`${file}: ${message}`));
    };
    const timer = setTimeout(
      () => fail(`module did not finish loading within ${timeoutMs} ms`),
      timeoutMs,
    ).unref();
    const onIdle = () => fail('module never finishes loading (its top-level await never settles)');
    const finish = () => {
      clearTimeout(timer);
      process.off('beforeExit', onIdle);
    };
    process.once('beforeExit', onIdle);
    loading.then(
      (value) => {
        finish();
        resolve(value);
      },
      (err: unknown) => {
        finish();
        reject(err);
      },
    );
  });
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.split('\n').find((line) => line.trim() !== '') ?? 'unknown error';
}
