import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/sim/profile.js';
import { type Simulator, startSimulator } from '../../src/sim/simulator.js';
import { renderScreen } from '../helpers/terminal-screen.js';
import { CLI, ensureBuilt, jsonLines, ROOT, runCli } from './cli.js';

/**
 * Issue 12 "Terminal": the CLI under a real pseudo-terminal (util-linux `script`), and with a reader that
 * goes away (`| head`). The sim serves 512 hosts on tcp: 0..99 healthy, 100..511 tarpits (connect, never
 * send the banner), so a run has rows first and then holds its in-flight checks.
 */
const BASE = '127.21.160.0';
const HOSTS = 512;
const HEALTHY = 100;
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let sim: Simulator;
let tcpArgs: string[];

beforeAll(async () => {
  ensureBuilt();
  sim = await startSimulator({
    hosts: HOSTS,
    base: BASE,
    protocols: ['tcp'],
    ports: { tcp: 0 },
    profile: parseProfile({ ranges: [{ from: HEALTHY, to: HOSTS - 1, tcp: 'tarpit' }] }, 'test'),
  });
  tcpArgs = ['-a', `port=${sim.ports.tcp}`, '-a', 'expectBanner=^fleetprobe-sim'];
}, 60_000);

afterAll(async () => {
  await sim?.close();
});

/** Waits (polling, bounded) until `predicate` holds; the bound only catches a hang. */
async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

interface PtyRun {
  readonly child: ChildProcess;
  /** Everything the terminal received so far (stdout and stderr of the CLI, plus echo). */
  output(): string;
  readonly done: Promise<number | null>;
}

/** Runs the CLI on a pseudo-terminal: `script` gives it a tty as stdin, stdout and stderr. */
function onPty(args: readonly string[]): PtyRun {
  const quoted = [process.execPath, CLI, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-q', '-e', '-c', quoted, '/dev/null'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, COLUMNS: '120', LINES: '40' },
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  const done = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve(code));
  });
  return { child, output: () => out, done };
}

const ROW = /^(pass|fail|error|timeout|cancelled)\s+127\.21\.16[01]\.\d+\s/;
const PROGRESS = /in flight \d+/;

describe.skipIf(!hasScript)('under a pseudo-terminal', () => {
  it('table rows never mix with the progress line, and the summary comes after every row', async () => {
    const pty = onPty(['run', 'tcp', `${BASE}/23`, ...tcpArgs, '-t', '1s', '-c', '100']);
    expect(await pty.done).toBe(1);
    expect(pty.output()).toMatch(PROGRESS); // the progress line was drawn while rows came in
    const screen = renderScreen(pty.output()).filter((l) => l !== '');
    expect(screen[0]).toMatch(/^STATUS\s+TARGET/);
    const rows = screen.slice(1, 1 + HOSTS);
    for (const line of rows) expect(line).toMatch(ROW);
    expect(rows.filter((l) => l.startsWith('pass'))).toHaveLength(HEALTHY);
    const rest = screen.slice(1 + HOSTS);
    expect(rest[0]).toMatch(/^512 targets in [\d.]+ s \(\d+ checks\/s\): 100 pass; 412 timeout$/);
    for (const line of rest) {
      expect(line).not.toMatch(ROW);
      expect(line).not.toMatch(PROGRESS);
    }
  }, 120_000);

  it('Ctrl-C in table mode: cancelled targets are counted, not printed; the summary is last; exit 130', async () => {
    const pty = onPty(['run', 'tcp', `${BASE}/23`, ...tcpArgs, '-t', '60s', '-c', '20']);
    try {
      // Handshake: every healthy row is on the terminal, the tarpits hold all 20 slots.
      await until(
        () => (pty.output().match(/127\.21\.160\.\d+ +\d+ +[\d.]+ +connected/g) ?? []).length >= HEALTHY,
        'rows',
      );
      pty.child.stdin?.write('\u0003'); // the terminal's line discipline turns it into SIGINT
      expect(await pty.done).toBe(130);
    } finally {
      if (pty.child.exitCode === null) pty.child.kill('SIGKILL');
    }
    const screen = renderScreen(pty.output()).filter((l) => l !== '' && l !== '^C');
    const rows = screen.filter((l) => ROW.test(l));
    expect(rows).toHaveLength(HEALTHY);
    expect(rows.every((l) => l.startsWith('pass'))).toBe(true);
    const summaryAt = screen.findIndex((l) => l.startsWith('cancelled: 512 targets'));
    expect(screen[summaryAt]).toMatch(/: 100 pass; 412 cancelled$/);
    expect(summaryAt).toBeGreaterThan(screen.lastIndexOf(rows.at(-1)!));
    expect(screen.slice(summaryAt).some((l) => ROW.test(l) || PROGRESS.test(l))).toBe(false);
  }, 120_000);
});

describe('a reader that goes away (| head)', () => {
  it('ends the run quietly and promptly: exit 141, nothing on stderr, the stored run cancelled', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fp-e2e-epipe-'));
    const db = path.join(dir, 'runs.db');
    try {
      // 10 in flight, one wave of timeouts every 200 ms: the whole run would take ~8 s.
      const child = spawn(
        process.execPath,
        [CLI, 'run', 'tcp', `${BASE}/23`, ...tcpArgs, '-t', '200ms', '-c', '10', '-o', 'jsonl', '--db', db],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => {
        stderr += s;
      });
      const code = new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      child.stdout.destroy(); // like head after its lines: the next write gets EPIPE
      expect(await code).toBe(141);
      expect(stderr).toBe('');

      const runs = jsonLines<{ state: string; counts: Record<string, number> }>(
        (await runCli(['runs', 'list', '--db', db, '-o', 'jsonl'])).stdout,
      );
      expect(runs).toHaveLength(1);
      expect(runs[0]!.state).toBe('cancelled');
      expect(runs[0]!.counts.cancelled).toBeGreaterThan(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
