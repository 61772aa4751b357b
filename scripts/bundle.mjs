// Bundles tsc's dist/ into bundle/ (what bin/fleetprobe.js runs): the CLI and every module started as a worker
// thread, so a process or thread loads a few files instead of ~200 ES modules. Run after tsc (npm run build).
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = join(root, 'dist');
const out = join(root, 'bundle');
const MODULE_URL = '__fleetprobeModuleUrl';

/**
 * dist-relative paths of the CLI, of the package's own entry (what a user check's `import 'fleetprobe'` loads:
 * from the same chunks as the CLI, so its classes are the CLI's, e.g. for `instanceof DeadlineError`) and of
 * the modules passed to threadModule() (worker thread entries).
 */
async function entryPoints() {
  const entries = new Set(['cli/main.js', 'index.js']);
  for (const file of await readdir(dist, { recursive: true })) {
    if (!file.endsWith('.js')) continue;
    const text = await readFile(join(dist, file), 'utf8');
    for (const [, , worker] of text.matchAll(/threadModule\(import\.meta\.url, (['"])(.+?)\1\)/g)) {
      entries.add(join(dirname(file), worker));
    }
  }
  return [...entries].map((file) => join(dist, file));
}

// Code from several modules shares an output file (chunk), so a module's import.meta.url would name that
// file. Each dist module's import.meta.url is rewritten to the URL it would have in bundle/ laid out like
// dist/ (entries are, see outbase), so lookups relative to it (web/, sibling worker entries) still work.
const moduleUrls = {
  name: 'module-urls',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const file = relative(dist, args.path);
      if (file.startsWith('..')) return undefined;
      const contents = (await readFile(args.path, 'utf8')).replaceAll(
        'import.meta.url',
        `${MODULE_URL}(${JSON.stringify(file.split(sep).join('/'))})`,
      );
      if (contents.includes('import.meta')) throw new Error(`${file}: import.meta other than .url`);
      return { contents, loader: 'js', resolveDir: dirname(args.path) };
    });
  },
};

await rm(out, { recursive: true, force: true });
const result = await build({
  entryPoints: await entryPoints(),
  outbase: dist,
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  write: false,
  // bundle/**/*.js.map, chained through tsc's maps to src/: `NODE_OPTIONS=--enable-source-maps` makes stack
  // traces name src/*.ts lines (off by default: it slows start-up).
  sourcemap: 'linked',
  // Mappings only: the sources are src/ and node_modules/ themselves (11 MB of maps with them copied in).
  sourcesContent: false,
  pure: [MODULE_URL],
  plugins: [moduleUrls],
  // Native addons and packages that start their own files (tsx's loader, piscina's worker) stay in node_modules.
  external: ['better-sqlite3', 'ssh2', 'cpu-features', 'pg-native', 'tsx', 'piscina'],
  // Bundled CommonJS dependencies call require() (node: built-ins, the externals above).
  banner: {
    js: "import { createRequire as __fleetprobeRequire } from 'node:module';const require = __fleetprobeRequire(import.meta.url);",
  },
});
// `import { z } from 'zod'` takes zod's whole namespace object, all of its ~60 locales included (~540 KB that
// every process and worker thread parsed: ~25 ms of CPU per thread); `import * as z from 'zod'` lets esbuild
// keep only what is used.
const locales = result.outputFiles.flatMap(({ text }) => [
  ...text.matchAll(/^\/\/ node_modules\/zod\/v4\/locales\/(?!en\.js$)/gm),
]);
if (locales.length > 0)
  throw new Error(
    `${locales.length} zod locales bundled besides en: import zod as \`import * as z from 'zod'\``,
  );
for (const { path, text } of result.outputFiles) {
  await mkdir(dirname(path), { recursive: true });
  if (path.endsWith('.map')) {
    await writeFile(path, text);
    continue;
  }
  const toOut = `${relative(dirname(path), out).split(sep).join('/') || '.'}/`;
  const code = text.replace(
    new RegExp(`${MODULE_URL}\\("([^"]+)"\\)`, 'g'),
    (_, file) => `new URL(${JSON.stringify(toOut + file)}, import.meta.url).href`,
  );
  if (code.includes(MODULE_URL)) throw new Error(`${path}: ${MODULE_URL} left`);
  await writeFile(path, code);
}
