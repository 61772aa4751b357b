/**
 * Issue 12: every command of README.md runs as written. The commands are the lines of the README's
 * ```sh / ```bash / ```console blocks (every fenced block must name its language, so a command cannot hide
 * in an unmarked one); each runs verbatim through `sh -c`, with `fleetprobe` on PATH being this checkout's
 * bin/fleetprobe.js, on loopback only. `CASES` says how each one is exercised; a README command without a
 * case (or a case whose command left the README) fails the first test.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/index.js';
import { CLI, ensureBuilt, ROOT } from '../e2e/cli.js';
import { serviceUp } from '../helpers/services.js';
import { startApi, type TestApi } from '../server/helpers.js';

/** The commands of a README: lines of its shell blocks, `\`-continued lines joined, comments kept. */
function readmeCommands(markdown: string): string[] {
  const commands: string[] = [];
  let lang: string | undefined; // inside a block: its language
  let pending = '';
  for (const raw of markdown.split('\n')) {
    const fence = /^\s*```(\S*)\s*$/.exec(raw);
    if (fence) {
      if (lang === undefined) {
        if (!fence[1]) throw new Error(`README.md: a fenced block without a language: ${raw.trim()}…`);
        lang = fence[1];
      } else lang = undefined;
      continue;
    }
    if (lang === undefined || !['sh', 'bash', 'console'].includes(lang)) continue;
    let line = raw.trim();
    if (lang === 'console') {
      if (!line.startsWith('$ ') && pending === '') continue; // output
      line = line.replace(/^\$ /, '');
    }
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trimEnd()} `;
      continue;
    }
    commands.push(pending + line);
    pending = '';
  }
  return commands;
}

interface Shell {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Context {
  /** A temp dir with `fleetprobe` on PATH and a working directory for the commands. */
  bin: string;
  cwd: string;
  /** A server on 127.0.0.1:<random> that `FLEETPROBE_SERVER` names for the CLI's client commands. */
  server: TestApi;
  /** An HTTP server on loopback answering 200 (a target for /probe). */
  target: string;
}

type Case =
  | { kind: 'exempt'; why: string }
  /** Minutes long, at the repository's root: exit 0, and stdout matches. */
  | { kind: 'slow'; cwd: 'repo'; timeoutMs: number; stdout: RegExp }
  /** Runs to its end: exit 0, and stdout matches. */
  | { kind: 'client'; stdout: RegExp }
  /** Starts a long-lived process, probes it with `probe`, stops it with SIGTERM (exit 0 expected). */
  | { kind: 'daemon'; port: number; probe: (ctx: Context) => Promise<void> };

const CASES: Record<string, Case> = {
  'npm install && npm run demo     # a simulated fleet of 2,000 hosts, every check, results in SQLite': {
    kind: 'slow',
    cwd: 'repo',
    timeoutMs: 15 * 60_000,
    stdout: /Every result matched the simulator/,
  },
  'npm test                        # the whole test suite (PostgreSQL and NATS tests say so loudly if skipped)':
    { kind: 'exempt', why: 'the test suite itself: this test is part of it' },
  'fleetprobe server --metrics-public --probe-module \'http_2xx={"check":"http","args":{"expectStatus":"2xx"},"timeout":"5s"}\' --probe-module \'dns_soa={"check":"dns","args":{"name":"example.com","type":"SOA"}}\'':
    {
      kind: 'daemon',
      port: 7070,
      async probe(ctx) {
        const base = 'http://127.0.0.1:7070';
        const probe = await fetch(`${base}/probe?module=http_2xx&target=${encodeURIComponent(ctx.target)}`);
        expect(probe.status).toBe(200);
        const text = await probe.text();
        expect(text).toMatch(/^probe_success 1$/m);
        expect(text).toMatch(/^probe_http_status_code 200$/m);
        // --metrics-public: no token needed; the module list is what the flags gave.
        const metrics = await fetch(`${base}/metrics`);
        expect(metrics.status).toBe(200);
        const unknown = await fetch(`${base}/probe?module=nope&target=127.0.0.1:1`);
        expect(await unknown.text()).toMatch(/dns_soa/);
      },
    },
  'fleetprobe alerts --state firing --monitor edge --limit 100     # JSON lines, newest first': {
    kind: 'client',
    stdout: /^$/, // no alert fired on this fresh server
  },
  "fleetprobe silences add --until 2h --monitor edge --match 'pop=\"waw\"' --target 10.20.0.0/24 --comment 'rack swap'":
    { kind: 'client', stdout: /"comment":"rack swap"/ },
  'fleetprobe silences list --all': { kind: 'client', stdout: /"targets":\["10\.20\.0\.0\/24"\]/ },
  'fleetprobe monitors add web tcp 127.20.0.0/24 -a port=9000 --interval 30s --down-after 2 --label team=cdn':
    { kind: 'client', stdout: /"name":"web"/ },
  'fleetprobe monitors list': { kind: 'client', stdout: /"name":"web"/ },
  'fleetprobe monitors show web          # definition, state counts, recent transitions': {
    kind: 'client',
    stdout: /"name":"web"/,
  },
  'fleetprobe monitors pause web ; fleetprobe monitors resume web ; fleetprobe monitors rm web': {
    kind: 'client',
    stdout: /"paused":true[\s\S]*"paused":false/,
  },
};

function sh(command: string, ctx: Context, cwd: string, timeoutMs: number): Promise<Shell> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], {
      cwd,
      env: {
        ...process.env,
        PATH: `${ctx.bin}${path.delimiter}${process.env.PATH ?? ''}`,
        FLEETPROBE_SERVER: ctx.server.url,
        // npm install in a checkout whose lock is satisfied: nothing to fetch, no audit round trip.
        npm_config_offline: 'true',
        npm_config_audit: 'false',
        npm_config_fund: 'false',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...out });
    });
  });
}

/** Starts `command` (through sh -c, exec'd so the signal reaches it), waits for its port, probes, stops it. */
async function runDaemon(command: string, c: Extract<Case, { kind: 'daemon' }>, ctx: Context): Promise<void> {
  if (await serviceUp(c.port))
    throw new Error(`127.0.0.1:${c.port} is in use: the README's command listens there (stop what holds it)`);
  const child = spawn('sh', ['-c', `exec ${command}`], {
    cwd: ctx.cwd,
    env: { ...process.env, PATH: `${ctx.bin}${path.delimiter}${process.env.PATH ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  child.stdout.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 30_000;
    while (!(await serviceUp(c.port))) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`not listening on ${c.port}; stderr: ${stderr}`);
      await sleep(100);
    }
    await c.probe(ctx);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited, stderr).toBe(0);
}

describe('README commands', async () => {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const commands = readmeCommands(readme);
  let ctx: Context;
  let dir: string;
  let target: http.Server;

  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fleetprobe-readme-'));
    const bin = path.join(dir, 'bin');
    const cwd = path.join(dir, 'work');
    await mkdir(bin);
    await mkdir(cwd);
    await symlink(CLI, path.join(bin, 'fleetprobe'));
    target = http.createServer((_req, res) => res.end('ok\n'));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    const server = await startApi({
      store: await openStore(path.join(dir, 'server.db')),
      allowTargets: ['127.20.0.0/16'],
    });
    const port = (target.address() as net.AddressInfo).port;
    ctx = { bin, cwd, server, target: `http://127.0.0.1:${port}/` };
  });
  afterAll(async () => {
    await ctx?.server.close();
    await new Promise((resolve) => target?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has a case for every command (and no case for a command it no longer has)', () => {
    expect(commands.length).toBeGreaterThan(0);
    expect([...commands].sort()).toEqual(Object.keys(CASES).sort());
  });

  // In README order: the monitor and silence commands build on each other.
  for (const command of commands) {
    const c = CASES[command];
    // A command without a case fails the first test; an exempt one says why in the table.
    if (!c || c.kind === 'exempt') continue;
    const timeout = c.kind === 'slow' ? c.timeoutMs + 30_000 : 60_000;
    it(
      command,
      async () => {
        if (c.kind === 'daemon') return runDaemon(command, c, ctx);
        const cwd = c.kind === 'slow' ? ROOT : ctx.cwd;
        const res = await sh(command, ctx, cwd, c.kind === 'slow' ? c.timeoutMs : 50_000);
        // The demo's verdict per check is far above its tail: say which check disagreed.
        const verdicts = res.stdout.split('\n').filter((l) => /simulator agrees|not judged|gave up/.test(l));
        expect(res.code, `${res.stderr}\n${verdicts.join('\n')}\n${res.stdout.slice(-2000)}`).toBe(0);
        expect(res.stdout).toMatch(c.stdout);
      },
      timeout,
    );
  }
});
