import { register } from 'node:module';

/**
 * Packages a user check may import without installing them: `fleetprobe` itself (for `defineCheck` and
 * the types) and `zod` (for `args`), the versions this fleetprobe runs with.
 */
const PROVIDED = ['fleetprobe', 'zod'];

/**
 * Module resolve hook; it runs on Node's loader thread, hence plain JavaScript in a string.
 * 1. A provided package is resolved as usual first, so a check's own `node_modules` wins; only when it
 *    is not found from the check's directory is it resolved again as if imported from inside fleetprobe,
 *    where `fleetprobe` names this package (self-reference through package.json `exports`) and `zod` is
 *    a dependency.
 * 2. A `.ts`/`.tsx` file outside node_modules whose nearest package.json does not say
 *    `"type": "commonjs"` (or that has none, as in a bare directory) is an ES module. tsx would compile
 *    it to CommonJS, whose `require()` no ESM hook sees, and `import ... from 'fleetprobe'` is ESM syntax.
 */
const HOOK_SOURCE = `
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
let fallbackParent;
const provided = ${JSON.stringify(PROVIDED)};
export function initialize(data) { fallbackParent = data.parentURL; }
function packageType(file) {
  for (let dir = dirname(file); ; ) {
    try {
      return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type;
    } catch (err) {
      if (err?.code !== 'ENOENT') return undefined;
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
export async function resolve(specifier, context, nextResolve) {
  let resolved;
  try {
    resolved = await nextResolve(specifier, context);
  } catch (err) {
    const pkg = specifier.startsWith('@') ? specifier.split('/', 2).join('/') : specifier.split('/', 1)[0];
    if (err?.code !== 'ERR_MODULE_NOT_FOUND' || !provided.includes(pkg) || context.parentURL === fallbackParent) throw err;
    return nextResolve(specifier, { ...context, parentURL: fallbackParent });
  }
  if (resolved.format !== 'module' && resolved.url.startsWith('file:') && /\\.tsx?$/.test(new URL(resolved.url).pathname)) {
    const file = fileURLToPath(resolved.url);
    if (!file.includes('/node_modules/') && packageType(file) !== 'commonjs') return { ...resolved, format: 'module' };
  }
  return resolved;
}
`;

let registered = false;

/**
 * Lets a user check module anywhere on disk `import { defineCheck } from 'fleetprobe'` (and `zod`)
 * without installing them: before, Node looked for `node_modules/fleetprobe` above the check's file and
 * failed with `Cannot find module 'fleetprobe'`. Registered once per thread, before the first user module
 * is imported (worker threads of isolated checks import through here too).
 */
export function providePackagesToUserChecks(): void {
  if (registered) return;
  registered = true;
  register(`data:text/javascript,${encodeURIComponent(HOOK_SOURCE)}`, {
    data: { parentURL: import.meta.url },
  });
}
