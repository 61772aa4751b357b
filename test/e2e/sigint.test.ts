import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountingListener, countingListener } from '../helpers/counting-listener.js';
import { ensureBuilt, jsonLines, startCli } from './cli.js';

/** Waits (polling, bounded) until `predicate` holds; the bound only catches a hang. */
async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const HOSTS = 12;
const CONCURRENCY = 4;
let tarpit: CountingListener;

beforeAll(async () => {
  ensureBuilt();
  tarpit = await countingListener('0.0.0.0'); // accepts and never answers
});

afterAll(async () => {
  await tarpit?.close();
});

describe('SIGINT', () => {
  it('exits 130 promptly with exactly one result per target: in flight and queued ones cancelled', async () => {
    const targets = Array.from({ length: HOSTS }, (_, i) => `127.21.70.${i + 1}`);
    const cli = startCli([
      'run',
      'http',
      ...targets,
      '-a',
      `port=${tarpit.port}`,
      '-t',
      '60s',
      '-c',
      String(CONCURRENCY),
      '-o',
      'jsonl',
    ]);
    let exitMs: number;
    let r: Awaited<typeof cli.done>;
    try {
      // Explicit handshake: the checks are running once the tarpit holds CONCURRENCY connections.
      await until(() => tarpit.accepted() >= CONCURRENCY || cli.child.exitCode !== null, 'connections');
      expect(tarpit.accepted()).toBe(CONCURRENCY);
      const signalledAt = performance.now();
      cli.child.kill('SIGINT');
      r = await cli.done;
      exitMs = performance.now() - signalledAt;
    } finally {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL'); // a failed wait
    }

    expect(r.code).toBe(130);
    expect(exitMs).toBeLessThan(3000);
    const results = jsonLines<{ target: string; status: string; check: string }>(r.stdout);
    expect(results).toHaveLength(HOSTS);
    expect(results.map((x) => x.target).sort()).toEqual([...targets].sort());
    expect(results.every((x) => x.status === 'cancelled')).toBe(true);
    // No check started after the interrupt.
    expect(tarpit.accepted()).toBe(CONCURRENCY);
    expect(r.stderr).not.toContain('handles still open');
  });
});
