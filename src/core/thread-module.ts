/**
 * Where a worker thread running the module `file` (e.g. `./thread-worker.js`, relative to `base`, the caller's
 * `import.meta.url`) starts: from built code the module itself; from the TypeScript sources (tsx, vitest)
 * `ts-thread.mjs`, which registers tsx in the thread and imports the .ts module (given as the thread's argv).
 */
export function threadModule(base: string, file: string): { url: URL; argv: string[] } {
  if (!base.endsWith('.ts')) return { url: new URL(file, base), argv: [] };
  const ts = new URL(file.replace(/\.js$/, '.ts'), base).href;
  return { url: new URL('./ts-thread.mjs', import.meta.url), argv: [ts] };
}
