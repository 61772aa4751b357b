import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/sim/profile.js';
import { type Simulator, startSimulator } from '../../src/sim/simulator.js';
import { ensureBuilt, HANDLES_LEFT_OPEN, jsonLines, runCli } from './cli.js';

/**
 * Issue 2: against hosts that never answer, reset, answer garbage, stream an endless body or drip one
 * byte a second, every target ends within its deadline, the run within timeout x waves, and the process
 * exits by itself (the CLI names leftover handles on stderr when it has to force an exit).
 */
const HOSTS = 20;
const CONCURRENCY = 4;
const TIMEOUT_MS = 1000;
/** A loaded 2-core machine delays timers and process start: margins are generous on purpose. */
const DURATION_MARGIN_MS = 750;
const PROCESS_OVERHEAD_MS = 6000;

/** Fault of host i, and the status its result must have (the manifest's expectation, see src/sim/manifest.ts). */
const FAULTS = [
  { fault: 'tarpit', status: 'timeout' }, // accepts, never answers
  { fault: 'reset', status: 'error' }, // RST after the request
  { fault: 'garbage', status: 'error' }, // bytes that are not HTTP
  // The body is read up to maxBytes (default 64 KiB) and the connection destroyed: decided at once, as
  // `fail` because the capped body does not match expectBody (never read on to the deadline).
  { fault: 'endless-body', status: 'fail' },
  { fault: 'drip-body', status: 'timeout' }, // 1000 bytes at one a second
] as const;
const PER_FAULT = HOSTS / FAULTS.length;

let sim: Simulator;

beforeAll(async () => {
  ensureBuilt();
  const profile = parseProfile(
    {
      ranges: FAULTS.map((f, k) => ({ from: k * PER_FAULT, to: (k + 1) * PER_FAULT - 1, http: f.fault })),
    },
    'e2e-misbehaving',
  );
  sim = await startSimulator({
    hosts: HOSTS,
    base: '127.21.60.0',
    profile,
    ports: { http: 0 },
    protocols: ['http'],
  });
});

afterAll(async () => {
  await sim?.close();
});

describe('http against misbehaving hosts', () => {
  it('every target ends within its deadline, the run within timeout x waves, and the process exits by itself', async () => {
    const targets = Array.from({ length: HOSTS }, (_, i) => sim.model.host(i).address);
    const r = await runCli([
      'run',
      'http',
      ...targets,
      '-a',
      `port=${sim.ports.http}`,
      '-a',
      'expectStatus=2xx',
      '-a',
      'expectBody=^ok h[0-9]+',
      '-t',
      '1s',
      '-c',
      String(CONCURRENCY),
      '-o',
      'jsonl',
    ]);
    expect(r.stderr).not.toContain(HANDLES_LEFT_OPEN);
    expect(r.code).toBe(1);

    const results = jsonLines<{
      target: string;
      status: string;
      durationMs: number;
      attempts: number;
      data: { truncated?: boolean };
    }>(r.stdout);
    expect(results).toHaveLength(HOSTS);
    expect(new Set(results.map((x) => x.target)).size).toBe(HOSTS);
    for (const result of results) {
      const host = sim.model.hostAt(result.target);
      expect(host, result.target).toBeDefined();
      const expected = FAULTS.find((f) => f.fault === host?.http);
      expect({ target: result.target, fault: host?.http, status: result.status }).toEqual({
        target: result.target,
        fault: expected?.fault,
        status: expected?.status,
      });
      // Each attempt ends within its deadline; a deadline that fired after the loop stalled earns one re-run.
      expect(result.durationMs).toBeLessThanOrEqual(result.attempts * (TIMEOUT_MS + DURATION_MARGIN_MS));
      if (host?.http === 'endless-body') expect(result.data.truncated).toBe(true);
    }
    // The timeouts really fired at the deadline (not early): tarpit and drip hosts take about 1 s.
    for (const result of results.filter((x) => x.status === 'timeout')) {
      expect(result.durationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    }
    const waves = Math.ceil(HOSTS / CONCURRENCY);
    expect(r.wallMs).toBeLessThanOrEqual(waves * TIMEOUT_MS + PROCESS_OVERHEAD_MS);
  });
});
