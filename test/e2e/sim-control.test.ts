import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ipv4ToInt } from '../../src/sim/ipv4.js';
import { type CliProcess, ensureBuilt, jsonLines, runCli, startCli } from './cli.js';

/**
 * Issue 9: `fleetprobe sim --control <port>` switches a range's faults while the sim runs. 50 hosts broken
 * through the endpoint make exactly those 50 fail a real `fleetprobe run tcp` / `run http`; a reset
 * restores them. The sim runs as its own process, as a user starts it.
 */
const HOSTS = 256;
const BASE = '127.21.140.0';
const BROKEN_FIRST = '127.21.140.100';
const BROKEN_LAST = '127.21.140.149'; // 50 hosts

interface SimInfo {
  ports: { http: number; tcp: number };
  control: number;
  checkArgs: Record<string, Record<string, unknown>>;
}

let sim: CliProcess;
let info: SimInfo;

beforeAll(async () => {
  ensureBuilt();
  sim = startCli([
    'sim',
    ...['--hosts', String(HOSTS), '--base', BASE, '--protocols', 'http,tcp'],
    ...['--http-port', '0', '--tcp-port', '0', '--control', '0', '--json'],
  ]);
  const line = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const text = sim.stdout();
      const nl = text.indexOf('\n');
      if (nl === -1) return;
      sim.child.stdout?.off('data', onData);
      resolve(text.slice(0, nl));
    };
    sim.child.stdout?.on('data', onData);
    sim.done.then(
      (r) => reject(new Error(`sim exited (${r.code}) before it was ready: ${r.stderr}`)),
      reject,
    );
  });
  info = JSON.parse(line) as SimInfo;
}, 60_000);

afterAll(async () => {
  if (sim && sim.child.exitCode === null) {
    sim.child.kill('SIGINT');
    await sim.done;
  }
});

async function control(method: 'POST' | 'DELETE' | 'GET', body?: unknown): Promise<unknown> {
  const res = await request(`http://127.0.0.1:${info.control}/faults`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.body.json();
  expect(res.statusCode).toBeLessThan(300);
  return json;
}

async function failing(check: 'tcp' | 'http'): Promise<string[]> {
  const args = Object.entries(info.checkArgs[check]!).flatMap(([k, v]) => ['-a', `${k}=${v}`]);
  const r = await runCli(['run', check, `${BASE}/24`, ...args, '-t', '5s', '-c', '64', '-o', 'jsonl']);
  const results = jsonLines<{ target: string; status: string }>(r.stdout);
  expect(results).toHaveLength(HOSTS);
  const bad = results.filter((x) => x.status !== 'pass');
  expect(r.code).toBe(bad.length === 0 ? 0 : 1);
  return bad.map((x) => x.target).sort((a, b) => ipv4ToInt(a) - ipv4ToInt(b));
}

const brokenRange = Array.from({ length: 50 }, (_, i) => `127.21.140.${100 + i}`);

describe('fleetprobe sim --control', () => {
  it('breaks exactly 50 hosts for run tcp and run http, and a reset restores them', async () => {
    expect(await failing('tcp')).toEqual([]);

    await control('POST', { range: `${BROKEN_FIRST}-${BROKEN_LAST}`, fault: 'refused' });
    expect(await failing('tcp')).toEqual(brokenRange);
    expect(await failing('http')).toEqual(brokenRange);

    // Per protocol: only http changes; tcp keeps the refusal set above.
    await control('POST', { range: `${BROKEN_FIRST}-${BROKEN_LAST}`, fault: 'healthy', protocol: 'http' });
    expect(await failing('http')).toEqual([]);
    expect(await failing('tcp')).toEqual(brokenRange);

    expect(await control('DELETE')).toEqual({ removed: 2 });
    expect(await failing('tcp')).toEqual([]);
    expect(await control('GET')).toEqual({ overrides: [] });
  }, 120_000);
});
