import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { isFleetprobeError } from '../../src/core/errors.js';
import { simCommand } from '../../src/sim/cli.js';
import { createFleetModel } from '../../src/sim/fleet.js';
import type { SimHost } from '../../src/sim/fleet-model.js';
import {
  expectedStatus,
  MANIFEST_CHECKS,
  type ManifestEntry,
  writeManifest,
} from '../../src/sim/manifest.js';
import { MIXED_PROFILE } from '../../src/sim/profile.js';
import { startSimulator } from '../../src/sim/simulator.js';
import { writeTargetsFile } from '../../src/sim/targets-file.js';
import { exchange, headAndBody } from './raw-client.js';

const socketHandles = () =>
  process
    .getActiveResourcesInfo()
    .filter((r) => r === 'TCPServerWrap' || r === 'TCPSocketWrap' || r === 'UDPWrap');

describe('startSimulator', () => {
  it('serves http/https/tcp on free ports, and close() leaves no handles and no temp dir', async () => {
    const before = socketHandles().length;
    const sim = await startSimulator({
      hosts: 300,
      base: '127.20.20.0',
      profile: 'mixed',
      ports: { http: 0, https: 0, tcp: 0 },
      protocols: ['http', 'https', 'tcp'],
    });
    expect(Object.keys(sim.ports).sort()).toEqual(['http', 'https', 'tcp']);
    expect(existsSync(sim.caFile!)).toBe(true);
    const healthy = Array.from({ length: 300 }, (_, i) => sim.model.host(i)).find(
      (h) => h.http === 'healthy',
    )!;
    const r = await exchange(healthy.address, sim.ports.http!);
    expect(headAndBody(r.data).body).toBe(`ok h${healthy.index}\n`);
    const tarpit = Array.from({ length: 300 }, (_, i) => sim.model.host(i)).find((h) => h.tcp === 'tarpit')!;
    const held = exchange(tarpit.address, sim.ports.tcp!, undefined); // held until close() destroys it
    await expect.poll(() => sim.openSockets()).toBeGreaterThan(0);
    await sim.close();
    expect((await held).data.length).toBe(0);
    expect(existsSync(sim.stateDir)).toBe(false);
    await expect.poll(() => socketHandles().length).toBe(before);
  });

  it('starts dns and ssh when their modules are present, and reports them', async () => {
    const sim = await startSimulator({
      hosts: 10,
      base: '127.20.21.0',
      ports: { dns: 0, ssh: 0 },
      protocols: ['dns', 'ssh'],
    });
    try {
      for (const p of ['dns', 'ssh'] as const) {
        expect(sim.ports[p]).toBeDefined();
      }
      expect(existsSync(sim.clientKeyFile!)).toBe(true);
    } finally {
      await sim.close();
    }
  });

  it('a port in use is a coded listen error, and nothing stays open', async () => {
    const first = await startSimulator({ hosts: 1, ports: { http: 0 }, protocols: ['http'] });
    try {
      const before = socketHandles().length;
      await expect(
        startSimulator({
          hosts: 1,
          ports: { http: first.ports.http! },
          protocols: ['http'],
          bind: '0.0.0.0',
        }),
      ).rejects.toMatchObject({ code: 'FP_SIM_LISTEN' });
      expect(socketHandles().length).toBe(before);
    } finally {
      await first.close();
    }
  });
});

describe('manifest', () => {
  const host = (over: Partial<SimHost>): SimHost => ({
    index: 0,
    address: '127.20.0.0',
    name: 'h0.fleet.test',
    http: 'healthy',
    tls: 'healthy',
    tcp: 'healthy',
    dns: 'healthy',
    ssh: 'healthy',
    latencyMs: 0,
    ...over,
  });
  const t = { timeoutMs: 1000 };

  it('states the expected status per fault and check', () => {
    for (const c of MANIFEST_CHECKS) expect(expectedStatus(host({}), c, t)).toBe('pass');
    expect(expectedStatus(host({ http: 'tarpit' }), 'http', t)).toBe('timeout');
    expect(expectedStatus(host({ http: 'drip-body' }), 'http', t)).toBe('timeout');
    expect(expectedStatus(host({ http: 'refused' }), 'http', t)).toBe('error');
    expect(expectedStatus(host({ http: 'http5xx' }), 'http', t)).toBe('fail');
    expect(expectedStatus(host({ http: 'slow', latencyMs: 400 }), 'http', t)).toBe('pass');
    expect(expectedStatus(host({ http: 'slow', latencyMs: 600 }), 'http', t)).toBe('timeout');
    expect(expectedStatus(host({ tls: 'expired-cert' }), 'https', t)).toBe('error');
    expect(expectedStatus(host({ tls: 'expired-cert' }), 'http', t)).toBe('pass');
    expect(expectedStatus(host({ tls: 'expired-cert', http: 'tarpit' }), 'https', t)).toBe('timeout');
    expect(expectedStatus(host({ tcp: 'tarpit' }), 'tcp', t)).toBe('timeout');
    expect(expectedStatus(host({ tcp: 'refused' }), 'tcp', t)).toBe('error');
    expect(expectedStatus(host({ dns: 'truncated' }), 'dns', t)).toBe('pass');
    expect(expectedStatus(host({ dns: 'nxdomain' }), 'dns', t)).toBe('fail');
    expect(expectedStatus(host({ dns: 'servfail' }), 'dns', t)).toBe('error');
    expect(expectedStatus(host({ dns: 'no-reply' }), 'dns', t)).toBe('timeout');
    expect(expectedStatus(host({ ssh: 'nonzero-exit' }), 'ssh', t)).toBe('fail');
    expect(expectedStatus(host({ ssh: 'hang-after-auth' }), 'ssh', t)).toBe('timeout');
    expect(expectedStatus(host({ ssh: 'wrong-host-key' }), 'ssh', t)).toBe('error');
  });

  it('writes JSONL (one host per line) and JSON (one object) with the same entries', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-sim-manifest-'));
    const model = createFleetModel({ hosts: 250, profile: MIXED_PROFILE });
    const ctx = { timeoutMs: 1500, ports: { http: 1, https: 2, tcp: 3 } };
    await writeManifest(model, path.join(dir, 'm.jsonl'), ctx);
    await writeManifest(model, path.join(dir, 'm.json'), ctx);
    const lines = readFileSync(path.join(dir, 'm.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as ManifestEntry);
    const json = JSON.parse(readFileSync(path.join(dir, 'm.json'), 'utf8')) as {
      hosts: ManifestEntry[];
      checks: object;
    };
    expect(lines.length).toBe(250);
    expect(json.hosts).toEqual(lines);
    expect(json.checks).toHaveProperty('https.port', 2);
    expect(lines[42]).toMatchObject({
      index: 42,
      address: '127.20.0.42',
      name: 'h42.fleet.test',
      timeoutMs: 1500,
    });
    expect(lines[42]!.expect.http).toBe(expectedStatus(model.host(42), 'http', { timeoutMs: 1500 }));
    expect(new Set(lines.map((l) => l.expect.http))).toEqual(new Set(['pass', 'fail', 'error', 'timeout']));
  });
});

describe('fleetprobe sim command', () => {
  const parse = (args: string[]) => {
    const program = new Command('fleetprobe').exitOverride();
    simCommand(program);
    return program.parseAsync(['node', 'fleetprobe', 'sim', ...args]);
  };

  it('rejects bad input with a UsageError before starting anything', async () => {
    for (const args of [
      ['--hosts', '0'],
      ['--base', 'localhost'],
      ['--base', '10.1.2.3'],
      ['--base', '127.255.255.0', '--hosts', '1000'],
      ['--profile', '/nonexistent/profile.json'],
      ['--protocols', 'http,gopher'],
    ]) {
      const defaults = args.includes('--protocols') ? [] : ['--protocols', 'http'];
      const err = await parse([...defaults, '--http-port', '0', ...args]).catch((e: unknown) => e);
      expect(isFleetprobeError(err, 'FP_USAGE')).toBe(true);
    }
  });

  it('prints its ready info as JSON, writes the manifest, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-sim-cli-'));
    const manifest = path.join(dir, 'm.jsonl');
    const script = path.join(import.meta.dirname, 'fixtures', 'sim-main.ts');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        script,
        'sim',
        '--hosts',
        '100',
        '--base',
        '127.20.22.0',
        '--profile',
        'mixed',
        '--json',
        '--manifest',
        manifest,
        '--protocols',
        'http,tcp',
        '--http-port',
        '0',
        '--tcp-port',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: process.cwd() },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const firstLine = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.once('exit', () => reject(new Error(`sim exited before printing: ${stderr}`)));
    });
    const info = JSON.parse(firstLine) as {
      hosts: number;
      ports: { http: number };
      manifest: string;
      last: string;
    };
    expect(info).toMatchObject({ hosts: 100, manifest, last: '127.20.22.99' });
    expect(readFileSync(manifest, 'utf8').trim().split('\n').length).toBe(100);
    const r = await exchange('127.20.22.0', info.ports.http);
    expect(headAndBody(r.data).head).toMatch(/^HTTP\/1\.1 /);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000); // starts a process through tsx: tens of seconds on a busy machine
});

describe('targets file', () => {
  it('lists every host as {address, name}, one per line', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-sim-targets-'));
    const model = createFleetModel({ hosts: 300, base: '127.20.30.0' });
    await writeTargetsFile(model, path.join(dir, 't.jsonl'));
    const lines = readFileSync(path.join(dir, 't.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.length).toBe(300);
    expect(lines[299]).toEqual({ address: '127.20.31.43', name: 'h299.fleet.test' });
  });
});
