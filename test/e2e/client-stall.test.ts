import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/sim/profile.js';
import { type Simulator, startSimulator } from '../../src/sim/simulator.js';
import { ensureBuilt, jsonLines, runCli } from './cli.js';

/**
 * Issue 11: the client's own event loop is blocked synchronously for 3 s (the test-only hook
 * FLEETPROBE_TEST_BLOCK_LOOP_MS, after the first result) while healthy simulated hosts have answered or are
 * answering: every deadline in flight runs late, yet no host is reported `timeout`. Answers waiting in their
 * sockets are read before the deadline's verdict; checks that could not progress are re-run once.
 */
const HOSTS = 60;
const BLOCK_MS = 3000;

let sim: Simulator;

beforeAll(async () => {
  ensureBuilt();
  sim = await startSimulator({
    hosts: HOSTS,
    base: '127.21.70.0',
    profile: parseProfile({ ranges: [] }, 'e2e-stall'),
    ports: { http: 0 },
    protocols: ['http'],
  });
});

afterAll(async () => {
  await sim?.close();
});

describe('a client stalled 3 s mid-run', () => {
  it('reports every healthy host pass, none timeout, and says it stalled', async () => {
    const targets = Array.from({ length: HOSTS }, (_, i) => sim.model.host(i).address);
    const r = await runCli(
      [
        'run',
        'http',
        ...targets,
        '-a',
        `port=${sim.ports.http}`,
        '-c',
        String(HOSTS),
        '-t',
        '1000ms',
        '-o',
        'jsonl',
        '--no-progress',
      ],
      { env: { FLEETPROBE_TEST_BLOCK_LOOP_MS: String(BLOCK_MS) } },
    );
    const results = jsonLines<{ status: string; target: string }>(r.stdout);
    expect(results).toHaveLength(HOSTS);
    expect(results.filter((x) => x.status !== 'pass')).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/client: event loop stalled/);
  });
});
