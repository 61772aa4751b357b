import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';

const names = async (only?: string) => (await buildProgram(only)).commands.map((c) => c.name()).sort();

describe('fleetprobe program', () => {
  it('loads only the subcommand named, none for --version, and all for the top-level help', async () => {
    expect(await names('run')).toEqual(['run']);
    expect(await names('--version')).toEqual([]);
    expect(await names('-V')).toEqual([]);
    expect(await names()).toEqual(
      expect.arrayContaining(['alerts', 'checks', 'monitors', 'run', 'runs', 'server', 'sim', 'worker']),
    );
  });
});
