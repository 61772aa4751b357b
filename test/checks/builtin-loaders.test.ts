import { describe, expect, it } from 'vitest';
import { loadBuiltinCheck } from '../../src/checks/builtin-loaders.js';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';

describe('loadBuiltinCheck', () => {
  it('loads the same check objects the built-in registry holds', async () => {
    const registry = createBuiltinRegistry();
    for (const check of registry.list()) expect(await loadBuiltinCheck(check.name)).toBe(check);
  });

  it('knows no other name', async () => {
    expect(await loadBuiltinCheck('nope')).toBeUndefined();
    expect(await loadBuiltinCheck('toString')).toBeUndefined();
  });
});
