/**
 * bench/sim.ts: the simulator at fleet scale.
 *   npx tsx bench/sim.ts [--hosts 100000] [--concurrency 512] [--sweep-hosts N] [--no-peer]
 * Starts `fleetprobe sim` in-process with --hosts hosts (HTTP only) and reports its RSS; then a child
 * process sweeps raw connect + GET + read-to-close over the hosts at --concurrency, and both sides report
 * CPU (process.cpuUsage) over the sweep: the side near 100% of one core is the bottleneck.
 * Peer: nginx (one worker, `return 200`) answering the same sweep on the same addresses, if installed.
 * Only loopback (127.20.0.0/14 by default).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MIXED_PROFILE } from '../src/sim/profile.js';
import { startSimulator } from '../src/sim/simulator.js';
import { benchArgs, benchNumber } from './lib/index.js';
import { processCpuSeconds } from './lib/proc-cpu.js';

const values = benchArgs(import.meta.url, {
  hosts: { type: 'string', default: '100000' },
  'sweep-hosts': { type: 'string' },
  concurrency: { type: 'string', default: '512' },
  base: { type: 'string', default: '127.20.0.0' },
  'no-peer': { type: 'boolean', default: false },
});
const hosts = benchNumber(import.meta.url, 'hosts', values.hosts);
const sweepHosts = Math.min(
  hosts,
  benchNumber(import.meta.url, 'sweep-hosts', values['sweep-hosts'] ?? String(hosts)),
);
const concurrency = benchNumber(import.meta.url, 'concurrency', values.concurrency);
const base = values.base;
const MB = 1024 * 1024;

/** The sweeping client, plain JS in its own process: connect, GET, read to close, next host. */
const CLIENT = `
import net from 'node:net';
const [base, port, n, concurrency] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
const b = base.split('.').map(Number);
const baseInt = ((b[0] << 24) >>> 0) + (b[1] << 16) + (b[2] << 8) + b[3];
const addr = (i) => { const v = baseInt + i; return ((v >>> 24) & 255) + '.' + ((v >>> 16) & 255) + '.' + ((v >>> 8) & 255) + '.' + (v & 255); };
const req = Buffer.from('GET / HTTP/1.1\\r\\nHost: sim\\r\\nConnection: close\\r\\n\\r\\n');
let next = 0, done = 0, ok = 0, bad = 0;
const cpu0 = process.cpuUsage(); const t0 = performance.now();
await new Promise((resolve) => {
  const one = () => {
    if (next >= n) { if (done === n) resolve(); return; }
    const i = next++;
    const s = net.connect({ host: addr(i), port });
    let first = null;
    s.on('connect', () => s.end(req));
    s.on('data', (c) => { if (first === null) first = c; });
    const finish = () => { if (s._fin) return; s._fin = true; done++; if (first && first.subarray(0, 12).toString() === 'HTTP/1.1 200') ok++; else bad++; s.destroy(); one(); };
    s.on('close', finish); s.on('error', () => {});
  };
  for (let k = 0; k < Math.min(concurrency, n); k++) one();
});
const wallMs = performance.now() - t0; const cpu = process.cpuUsage(cpu0);
process.stdout.write(JSON.stringify({ wallMs, cpuMs: (cpu.user + cpu.system) / 1000, ok, bad }) + '\\n');
`;

interface SweepResult {
  wallMs: number;
  cpuMs: number;
  ok: number;
  bad: number;
}

function sweep(port: number, n: number): Promise<SweepResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', CLIENT, base, String(port), String(n), String(concurrency)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as SweepResult) : reject(new Error(`client exited ${code}`)),
    );
  });
}

interface Row {
  server: string;
  rssMb: string;
  connPerS: number;
  serverCpu: number;
  clientCpu: number;
  ok: string;
}

const rows: Row[] = [];

// --- ours: the sim, in this process ---
const rss0 = process.memoryUsage().rss;
// Every host healthy for the sweep (status 200 expected everywhere); the model cost is the same for mixed.
const sim = await startSimulator({
  hosts,
  base,
  ports: { http: 0 },
  protocols: ['http'],
  profile: 'healthy',
});
// The mixed model, touched over every host, to show the per-host cost is O(1) with no state.
const probe = await startSimulator({
  hosts,
  base,
  ports: { http: 0 },
  protocols: ['http'],
  profile: MIXED_PROFILE,
});
let touched = 0;
for (let i = 0; i < hosts; i++) touched += probe.model.host(i).latencyMs >= 0 ? 1 : 0;
await probe.close();
const rssAfterStart = process.memoryUsage().rss;
await sweep(sim.ports.http!, Math.min(sweepHosts, 5000)); // warm-up (JIT, kernel paths), not measured
const simCpu0 = process.cpuUsage();
const simT0 = performance.now();
const ours = await sweep(sim.ports.http!, sweepHosts);
const simWall = performance.now() - simT0;
const simCpu = process.cpuUsage(simCpu0);
const peakRss = process.resourceUsage().maxRSS * 1024;
await sim.close();
rows.push({
  server: 'fleetprobe sim (node, 1 thread)',
  rssMb: `${(rssAfterStart / MB).toFixed(0)} (peak ${(peakRss / MB).toFixed(0)})`,
  connPerS: Math.round((sweepHosts / ours.wallMs) * 1000),
  serverCpu: Math.round(((simCpu.user + simCpu.system) / 1000 / simWall) * 100),
  clientCpu: Math.round((ours.cpuMs / ours.wallMs) * 100),
  ok: `${ours.ok}/${sweepHosts}`,
});

// --- peer: nginx, one worker ---
function nginxPath(): string | undefined {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx']) {
    try {
      execFileSync(p, ['-v'], { stdio: 'ignore' });
      return p;
    } catch {}
  }
  return undefined;
}
const nginx = values['no-peer'] ? undefined : nginxPath();
if (nginx) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-bench-nginx-'));
  const port = 18080 + Math.floor(Math.random() * 1000);
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `daemon off; master_process off; worker_processes 1; error_log ${dir}/error.log; pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 0.0.0.0:${port} backlog=4096; keepalive_timeout 0; location / { return 200 "ok\\n"; } } }
`,
  );
  const proc = spawn(nginx, ['-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
  // Wait until it answers, then warm up like ours.
  for (let k = 0; k < 100; k++) {
    const up = await sweep(port, 1).then(
      (r) => r.ok === 1,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await sweep(port, Math.min(sweepHosts, 5000));
  const cpuOf = () => processCpuSeconds(proc.pid) * 1000;
  const c0 = cpuOf();
  const t0 = performance.now();
  const peer = await sweep(port, sweepHosts);
  const wall = performance.now() - t0;
  const c1 = cpuOf();
  const rssKb = Number(
    /VmHWM:\s+(\d+)/.exec(execFileSync('cat', [`/proc/${proc.pid}/status`]).toString())?.[1] ?? 0,
  );
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  rows.push({
    server: 'nginx 1 worker (return 200)',
    rssMb: `peak ${(rssKb / 1024).toFixed(0)}`,
    connPerS: Math.round((sweepHosts / peer.wallMs) * 1000),
    serverCpu: Math.round(((c1 - c0) / wall) * 100),
    clientCpu: Math.round((peer.cpuMs / peer.wallMs) * 100),
    ok: `${peer.ok}/${sweepHosts}`,
  });
}

console.log(
  `# bench/sim: ${hosts} hosts held, sweep of ${sweepHosts} hosts, raw connect+GET+close, concurrency ${concurrency}`,
);
console.log(
  `# ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, node ${process.version}, ${os.platform()} ${os.release()}`,
);
console.log(
  `# model touched ${touched} hosts (mixed profile) with RSS ${(rssAfterStart / MB).toFixed(0)} MB (start RSS ${(rss0 / MB).toFixed(0)} MB)`,
);
const header = ['server', 'RSS MB', 'conn/s', 'server CPU%', 'client CPU%', '200 OK'];
const table = rows.map((r) => [
  r.server,
  r.rssMb,
  String(r.connPerS),
  String(r.serverCpu),
  String(r.clientCpu),
  r.ok,
]);
const widths = header.map((h, k) => Math.max(h.length, ...table.map((t) => t[k]!.length)));
const fmt = (cells: string[]) => cells.map((c, k) => c.padEnd(widths[k]!)).join('  ');
console.log(fmt(header));
for (const t of table) console.log(fmt(t));
console.log('# the side whose CPU% is near 100 (one core) is the bottleneck of the sweep');
