import { describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { buildRegistry, closeSharedResources, runResolver } from '../../src/cli/runtime.js';
import { systemResolve } from '../../src/targets/system-resolver.js';

describe('run runtime', () => {
  it('loads only the built-in check a run names, the same object the full registry holds', async () => {
    const registry = await buildRegistry(undefined, 'http');
    expect(registry.list().map((c) => c.name)).toEqual(['http']);
    expect(registry.get('http')).toBe(createBuiltinRegistry().get('http'));
  });

  it('an unknown check name still lists every built-in in its error', async () => {
    const registry = await buildRegistry(undefined, 'nosuch');
    expect(() => registry.get('nosuch')).toThrow('unknown check "nosuch" (available: dns, http, ssh, tcp)');
  });

  it('without --resolver the system resolver; with one, a bad server is a usage error before anything runs', async () => {
    expect(await runResolver(undefined)).toBe(systemResolve);
    await expect(runResolver('bad:x')).rejects.toThrow('bad DNS server "bad:x"');
    await closeSharedResources();
  });
});
