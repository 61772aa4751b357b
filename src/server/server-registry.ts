import { createBuiltinRegistry } from '../checks/builtins.js';
import type { CheckRegistry } from '../checks/registry.js';
import type { Credentials } from '../config/credentials.js';
import { UsageError } from '../core/errors.js';

/**
 * The checks a server offers: the built-ins plus each configured check module, loaded at start (a module
 * that does not load is a `UsageError` naming it). The configured name must be the check's own name: it
 * is what API runs give as `check`, and what workers, loading the same module, know it by.
 * `loadedModules` says whether user-check thread pools may need closing at shutdown.
 */
export async function buildServerRegistry(
  creds: Credentials,
): Promise<{ registry: CheckRegistry; loadedModules: boolean }> {
  const registry = createBuiltinRegistry();
  const modules = Object.entries(creds.checkModules);
  if (modules.length === 0) return { registry, loadedModules: false };
  const { loadCheckModule } = await import('../checks/user/index.js');
  for (const [name, path] of modules) {
    const check = await loadCheckModule(path);
    if (check.name !== name) {
      throw new UsageError(
        `--check-module ${name}=${path}: the module's check is named "${check.name}"; use --check-module ${check.name}=${path}`,
      );
    }
    registry.register(check);
  }
  return { registry, loadedModules: true };
}
