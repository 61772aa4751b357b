import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isClientOverloadResult } from '../../src/engine/overload.js';
import type { ManifestEntry } from '../../src/sim/manifest.js';
import { type CliProcess, ensureBuilt, jsonLines, runCli, startCli } from './cli.js';

/**
 * Issue 3: for a `--profile mixed` fleet, every run of http, https, tcp (dns, ssh) yields for every host
 * the status the simulator's manifest expects. N = 1000 here (the issue states 10,000; the same code
 * runs with E2E_MANIFEST_HOSTS=10000). The sim runs as its own process, as a user would start it.
 */
const HOSTS = Number(process.env.E2E_MANIFEST_HOSTS ?? 1000);
const BASE = '127.21.128.0';
/**
 * The deadline the manifest's expectations are stated for: above the default 2 s, because on a loaded 2-core
 * machine TLS and SSH handshakes queue for CPU, and only tarpit-like hosts (one wave) wait this long.
 */
const MANIFEST_TIMEOUT = '5s';

interface SimInfo {
  ports: Record<string, number | undefined>;
  timeoutMs: number;
  checkArgs: Record<string, Record<string, unknown>>;
  manifest: string;
  targets: string;
}

/** Concurrency per check: handshake-heavy protocols get fewer in flight so CPU starvation cannot fake timeouts. */
const CONCURRENCY: Record<string, number> = { http: 500, https: 100, tcp: 500, dns: 500, ssh: 48 };

let dir: string;
let sim: CliProcess;
let info: SimInfo;
let manifest: Map<string, ManifestEntry>;
let available: Set<string>;

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'fp-e2e-manifest-'));
  sim = startCli([
    'sim',
    '--hosts',
    String(HOSTS),
    '--base',
    BASE,
    '--profile',
    'mixed',
    '--manifest',
    path.join(dir, 'manifest.jsonl'),
    '--manifest-timeout',
    MANIFEST_TIMEOUT,
    '--targets',
    path.join(dir, 'targets.jsonl'),
    ...['--http-port', '0', '--https-port', '0', '--tcp-port', '0', '--dns-port', '0', '--ssh-port', '0'],
    '--json',
  ]);
  // The ready line (one JSON object) on stdout; the sim exiting first is a failure with its stderr.
  const line = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const text = sim.stdout();
      const nl = text.indexOf('\n');
      if (nl !== -1) {
        sim.child.stdout?.off('data', onData);
        resolve(text.slice(0, nl));
      }
    };
    sim.child.stdout?.on('data', onData);
    sim.done.then(
      (r) => reject(new Error(`sim exited (${r.code}) before it was ready: ${r.stderr}`)),
      reject,
    );
  });
  info = JSON.parse(line) as SimInfo;
  manifest = new Map(
    jsonLines<ManifestEntry>(await readFile(info.manifest, 'utf8')).map((e) => [e.address, e]),
  );
  const checks = await runCli(['checks']);
  available = new Set([...checks.stdout.matchAll(/^(\w+)\s+\(default timeout/gm)].map((m) => m[1] ?? ''));
}, 120_000);

afterAll(async () => {
  if (sim && sim.child.exitCode === null) {
    sim.child.kill('SIGTERM');
    const r = await sim.done;
    expect(r.code).toBe(0);
  }
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Row {
  target: string;
  status: string;
  message: string;
}

/** Runs one manifest check through the CLI and compares every host's status with the manifest. */
async function runAndCompare(check: 'http' | 'https' | 'tcp' | 'dns' | 'ssh'): Promise<void> {
  const checkName = check === 'https' ? 'http' : check;
  const service = check === 'https' ? 'https' : check;
  expect(available.has(checkName), `check "${checkName}" is registered`).toBe(true);
  expect(info.ports[service], `the sim serves ${service}`).toBeDefined();
  // The arguments exactly as the manifest states them (src/sim/manifest.ts manifestCheckArgs).
  const args = info.checkArgs[check] ?? {};
  const r = await runCli([
    'run',
    checkName,
    '-f',
    info.targets,
    '--args-json',
    JSON.stringify(args),
    '-t',
    `${info.timeoutMs}ms`,
    '-c',
    String(CONCURRENCY[check]),
    '-o',
    'jsonl',
  ]);
  expect(r.code, `exit code; stderr: ${r.stderr.slice(0, 2000)}`).toBe(1); // mixed: some hosts do not pass
  expect(r.stderr).not.toContain('handles still open');
  const results = jsonLines<Row>(r.stdout);
  expect(results).toHaveLength(HOSTS);
  const mismatches: unknown[] = [];
  const seen = new Set<string>();
  // On a CI machine starved by the rest of the suite, fleetprobe may say it was itself the bottleneck (issue 11)
  // instead of judging a host: not a wrong verdict, but only a few of those are tolerated.
  let notJudged = 0;
  for (const x of results) {
    seen.add(x.target);
    const entry = manifest.get(x.target);
    const expected = entry?.expect[check];
    if (isClientOverloadResult(x)) notJudged++;
    else if (x.status !== expected) {
      mismatches.push({
        target: x.target,
        profile: entry?.profile,
        expected,
        got: x.status,
        message: x.message,
      });
    }
  }
  expect(seen.size).toBe(HOSTS);
  expect(notJudged, 'results the client was too overloaded to judge').toBeLessThan(HOSTS / 20);
  expect(mismatches.slice(0, 20), `${mismatches.length} of ${HOSTS} hosts differ from the manifest`).toEqual(
    [],
  );
  // Not vacuous: the mixed profile gives this check more than one kind of outcome.
  expect(new Set(results.map((x) => x.status)).size).toBeGreaterThan(1);
}

describe(`every host gets the status the manifest expects (mixed profile, ${HOSTS} hosts)`, () => {
  it('http', () => runAndCompare('http'), 90_000);
  it('https', () => runAndCompare('https'), 90_000);
  it('tcp', () => runAndCompare('tcp'), 90_000);
  it('dns', () => runAndCompare('dns'), 90_000);
  it('ssh', () => runAndCompare('ssh'), 120_000);
});
