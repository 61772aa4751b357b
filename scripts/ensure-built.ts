import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Builds dist/ and bundle/ as `npm run build` does when bundle/cli/main.js is missing: for the end-to-end tests
 * and the benches, which run the CLI as a user does (`node bin/fleetprobe.js`), started without a build (a bare
 * `vitest run`, `npx tsx bench/...`). Throws when the build leaves no CLI.
 */
export function ensureBuilt(): void {
  if (existsSync(path.join(ROOT, 'bundle', 'cli', 'main.js'))) return;
  process.stderr.write('bundle/ missing: building (tsc -p tsconfig.build.json, scripts/bundle.mjs)\n');
  try {
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
      { cwd: ROOT, stdio: 'ignore' },
    );
  } catch {
    // tsc exits non-zero on a type error elsewhere but still emits; the bundle step decides.
  }
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'bundle.mjs')], { cwd: ROOT, stdio: 'inherit' });
  if (!existsSync(path.join(ROOT, 'bundle', 'cli', 'main.js')))
    throw new Error('build produced no bundle/cli/main.js');
}
