import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountingListener, countingListener } from '../helpers/counting-listener.js';
import { ensureBuilt, jsonLines, lines, runCli } from './cli.js';

/** The JSONL fields of the command-line contract, in order (DESIGN.md). */
const JSONL_FIELDS = [
  'run',
  'target',
  'port',
  'name',
  'labels',
  'check',
  'status',
  'durationMs',
  'startedAt',
  'attempts',
  'message',
  'reason',
  'data',
];

/** 64 targets refused (a /26: folded in the summary), 3 passing targets from a .jsonl file. */
const FAILING_BLOCK = '127.21.80.0/26';
const FAILING = 64;
const PASSING = 3;

let open: CountingListener;
let closedPort: number;
let dir: string;
let targetsFile: string;

beforeAll(async () => {
  ensureBuilt();
  open = await countingListener('0.0.0.0');
  const closed = await countingListener('0.0.0.0');
  closedPort = closed.port;
  await closed.close();
  dir = await mkdtemp(path.join(os.tmpdir(), 'fp-e2e-out-'));
  targetsFile = path.join(dir, 'targets.jsonl');
  const entries = Array.from({ length: PASSING }, (_, i) => ({
    address: `127.21.81.${i + 1}`,
    name: `web${i + 1}.example`,
    port: open.port,
    labels: { region: 'eu', role: 'edge' },
  }));
  await writeFile(targetsFile, `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
});

afterAll(async () => {
  await open?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const runArgs = (format: string) => [
  'run',
  'tcp',
  FAILING_BLOCK,
  '-f',
  targetsFile,
  '-a',
  `port=${closedPort}`,
  '-t',
  '5s',
  '-c',
  '32',
  '-o',
  format,
];

describe('output formats', () => {
  it('jsonl: one line per target with exactly the contract fields; the summary goes to stderr', async () => {
    const r = await runCli(runArgs('jsonl'));
    expect(r.code).toBe(1);
    const results = jsonLines(r.stdout); // throws if any stdout line is not JSON: stdout is clean
    expect(results).toHaveLength(FAILING + PASSING);
    for (const x of results) {
      expect(Object.keys(x)).toEqual(JSONL_FIELDS);
      expect(typeof x.run).toBe('string');
      expect(typeof x.target).toBe('string');
      expect(typeof x.port).toBe('number');
      expect(x.check).toBe('tcp');
      expect(['pass', 'error']).toContain(x.status);
      expect(typeof x.durationMs).toBe('number');
      expect(x.durationMs as number).toBeGreaterThanOrEqual(0);
      expect(Number.isNaN(Date.parse(x.startedAt as string))).toBe(false);
      expect(x.attempts).toBe(1);
      expect(typeof x.message).toBe('string');
      expect(typeof x.reason).toBe('string');
      expect(typeof x.data).toBe('object');
      expect(x.data).not.toBeNull();
    }
    expect(new Set(results.map((x) => x.run)).size).toBe(1);
    const passing = results.filter((x) => x.status === 'pass');
    expect(passing.map((x) => x.name).sort()).toEqual(['web1.example', 'web2.example', 'web3.example']);
    for (const x of passing) {
      expect(x.port).toBe(open.port);
      expect(x.labels).toEqual({ region: 'eu', role: 'edge' });
    }
    const failing = results.filter((x) => x.status === 'error');
    expect(failing).toHaveLength(FAILING);
    for (const x of failing) {
      expect(x.port).toBe(closedPort);
      expect(x.name).toBeNull();
      expect(x.labels).toEqual({});
    }
    // stderr: the final summary with counts per status.
    expect(r.stderr).toMatch(/67 targets in [\d.]+ s/);
    expect(r.stderr).toMatch(/3 pass/);
    expect(r.stderr).toMatch(/64 error/);
  });

  it('csv: a header and one row per target', async () => {
    const r = await runCli(runArgs('csv'));
    expect(r.code).toBe(1);
    const rows = lines(r.stdout);
    expect(rows[0]).toBe(JSONL_FIELDS.join(','));
    expect(rows).toHaveLength(1 + FAILING + PASSING);
    const statusCol = JSONL_FIELDS.indexOf('status');
    const statuses = rows.slice(1).map((row) => row.split(',')[statusCol]);
    expect(statuses.filter((s) => s === 'pass')).toHaveLength(PASSING);
    expect(statuses.filter((s) => s === 'error')).toHaveLength(FAILING);
  });

  it('summary: counts, and a block of failures folded into its CIDR, on stdout', async () => {
    const r = await runCli(runArgs('summary'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/67 targets in [\d.]+ s/);
    const errorLine = lines(r.stdout).find((l) => /^\s+64 error /.test(l));
    expect(errorLine).toBeDefined();
    expect(errorLine).toContain(FAILING_BLOCK);
    // Folded: no single address of the block is listed on its own.
    expect(errorLine).not.toContain('127.21.80.5,');
    expect(r.stdout).not.toContain('{"run"');
  });

  it('groups: every failure group in full with its names on stdout; the summary on stderr', async () => {
    // 8 names resolving to refused addresses fail with one reason: one group listing every name.
    const named = path.join(dir, 'named.jsonl');
    const entries = Array.from({ length: 8 }, (_, i) => ({
      address: `127.21.82.${i + 1}`,
      name: `db${i + 1}.example`,
    }));
    await writeFile(named, `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
    const r = await runCli([...runArgs('groups'), '-f', named]);
    expect(r.code).toBe(1);
    const out = lines(r.stdout);
    expect(out[0]).toBe('72 error connect ECONNREFUSED');
    expect(out[1]).toBe(`  targets: ${FAILING_BLOCK}, 127.21.82.[1-8]`);
    expect(out[2]).toBe(`  names: ${entries.map((e) => e.name).join(', ')}`);
    expect(r.stdout).not.toMatch(/more\)/);
    expect(r.stderr).toMatch(/75 targets in [\d.]+ s/);
    expect(r.stderr).toContain('-o groups lists every group in full');
  });
});
