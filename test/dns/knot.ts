import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DnsClient } from '../../src/dns/index.js';

/** Where Debian's knot package puts the daemon. */
export const KNOTD = '/usr/sbin/knotd';

export function knotInstalled(): boolean {
  return existsSync(KNOTD);
}

/** A port free on 127.0.0.1 for both UDP and TCP at the moment of asking. */
export async function freePort(): Promise<number> {
  for (;;) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const port = udp.address().port;
    const tcp = net.createServer();
    const ok = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(port, '127.0.0.1', () => r(true));
    });
    await new Promise<void>((r) => udp.close(() => r()));
    if (ok) {
      await new Promise<void>((r) => tcp.close(() => r()));
      return port;
    }
  }
}

export interface KnotServer {
  readonly host: string;
  readonly port: number;
  /** Milliseconds from spawn until the zone answered its SOA. */
  readonly loadMs: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface KnotOptions {
  host: string;
  port: number;
  /** Zone apex, e.g. `bench.test` (no trailing dot). */
  zone: string;
  /** Full zone file text (with `$ORIGIN`); written to `<zone>.zone`. */
  zoneText: string;
  /** Extra zones: apex -> zone file text. */
  extraZones?: Record<string, string>;
  /** UDP worker threads (default: knot's own choice). */
  udpWorkers?: number;
  /** Give up waiting for the zone to load after this many ms (default 120000). */
  loadTimeoutMs?: number;
}

/**
 * Starts knotd as a child process with its own configuration in a temporary directory, listening on
 * `host@port` (UDP and TCP), serving the given zone(s). Resolves once the zone's SOA answers.
 * `stop()` sends SIGTERM (SIGKILL after 5 s) and removes the directory.
 */
export async function startKnot(opts: KnotOptions): Promise<KnotServer> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetprobe-knot-'));
  const zones: Record<string, string> = { [opts.zone]: opts.zoneText, ...opts.extraZones };
  for (const [apex, text] of Object.entries(zones)) await writeFile(join(dir, `${apex}.zone`), text);
  const conf = [
    'server:',
    `    rundir: "${dir}"`,
    `    listen: ${opts.host}@${opts.port}`,
    ...(opts.udpWorkers ? [`    udp-workers: ${opts.udpWorkers}`] : []),
    'log:',
    '  - target: stderr',
    '    any: warning',
    'database:',
    `    storage: "${dir}"`,
    'control:',
    `    listen: "${join(dir, 'knot.sock')}"`,
    'template:',
    '  - id: default',
    `    storage: "${dir}"`,
    '    file: "%s.zone"',
    '    semantic-checks: off',
    '    zonefile-sync: -1',
    '    journal-content: none',
    'zone:',
    ...Object.keys(zones).map((apex) => `  - domain: ${apex}`),
    '',
  ].join('\n');
  const confPath = join(dir, 'knot.conf');
  await writeFile(confPath, conf);
  const started = performance.now();
  const child: ChildProcess = spawn(KNOTD, ['-c', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const killTimer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exitPromise;
      clearTimeout(killTimer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const client = new DnsClient({ retries: 0 });
  try {
    const limitMs = opts.loadTimeoutMs ?? 120_000;
    for (;;) {
      if (exited) throw new Error(`knotd exited early: ${stderr.trim()}`);
      if (performance.now() - started > limitMs)
        throw new Error(`knotd did not load ${opts.zone} in ${limitMs} ms`);
      try {
        const res = await client.query({
          name: opts.zone,
          type: 'SOA',
          server: { address: opts.host, port: opts.port },
          timeoutMs: 200,
        });
        if (res.rcode === 'NOERROR' && res.answers.length > 0) break;
      } catch {
        // not listening yet or still loading
      }
      await sleep(50);
    }
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await client.close();
  }
  return {
    host: opts.host,
    port: opts.port,
    loadMs: performance.now() - started,
    pid: child.pid ?? -1,
    stop,
  };
}
