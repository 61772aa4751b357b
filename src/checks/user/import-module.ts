import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UsageError } from '../../core/errors.js';
import { providePackagesToUserChecks } from './package-fallback.js';

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);
const JS_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/**
 * Imports a user module by absolute path: TypeScript through tsx's ESM API (a fresh tsx namespace per call,
 * so the module is evaluated again), JavaScript with plain `import()` (cached by Node).
 * `file` is the path as the user gave it, for messages. A missing file, an unknown extension, a syntax error
 * or a throw while the module evaluates become a one-line `UsageError` naming `file` (the cause is kept).
 * `fleetprobe` and `zod` resolve for a module anywhere on disk (see package-fallback.ts).
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
  try {
    if (TS_EXTENSIONS.has(ext)) {
      const { tsImport } = await import('tsx/esm/api');
      return (await tsImport(url, import.meta.url)) as Record<string, unknown>;
    }
    return (await import(url)) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(`${file}: cannot load module: ${firstLine(err)}`, { cause: err });
  }
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message || err.name : String(err);
  return text.split('\n').find((line) => line.trim() !== '') ?? 'unknown error';
}
