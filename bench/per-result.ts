/**
 * Issue 11's per-result table: CPU (user + system) per result of the whole `fleetprobe run` process for each
 * built-in network check, next to the raw client doing the same protocol work, on the same machine at the
 * same time.
 *
 *   npm run build && npx tsx bench/per-result.ts [--names 100000] [--hosts 20000] [--tcp 127.64.0.0/16]
 *                                                [--concurrency 1000] [--rounds 2] [--only dns,http,tcp]
 *
 * - dns: `fleetprobe run dns -f names.txt --arg server=IP:PORT -o jsonl > file` against a knotd serving
 *   `n<i>.bench.test` (test/dns/knot.ts), -c 256 (the default); raw: the DnsClient alone with 256 callers
 *   (`bench/dns.ts --child ours`), CPU of its query loop only.
 * - http: `fleetprobe run http -f hosts.txt -a port=P -c 1000 -o jsonl > file`, one `GET /` per distinct
 *   127.40.x.y host, Debian nginx (bench/lib/nginx.ts); raw: the http check alone and bare `net`
 *   (`bench/http-layer.ts --layers raw,fleetprobe`, its own nginx), CPU of the sweep only.
 * - tcp: `fleetprobe run tcp <cidr> -a port=P -c 1000 -o jsonl > file` to a port nothing listens on (refused);
 *   raw: bare `net.connect` to the same targets at the same concurrency (`--child tcp-raw`), CPU of the loop.
 * CLI numbers include start-up (~0.3 s of CPU). Each row keeps its lowest CPU over `--rounds`; rounds
 * alternate CLI and raw, and the load average is printed: on a busy machine only ratios mean much.
 * Exits 0. Only loopback addresses are ever contacted.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKnot } from '../test/dns/knot.js';
import {
  benchArgs,
  benchNumber,
  CLI,
  freePort,
  loopbackHost,
  nginxAvailable,
  ROOT,
  startNginx,
} from './lib/index.js';

const SELF = fileURLToPath(import.meta.url);

const values = benchArgs(import.meta.url, {
  names: { type: 'string', default: '100000' },
  hosts: { type: 'string', default: '20000' },
  tcp: { type: 'string', default: '127.64.0.0/16' },
  concurrency: { type: 'string', default: '1000' },
  rounds: { type: 'string', default: '2' },
  only: { type: 'string', default: 'dns,http,tcp' },
  child: { type: 'string' },
  port: { type: 'string' },
});
const NAMES = benchNumber(import.meta.url, 'names', values.names);
const HOSTS = benchNumber(import.meta.url, 'hosts', values.hosts);
const CONCURRENCY = benchNumber(import.meta.url, 'concurrency', values.concurrency);
const ROUNDS = Math.max(1, benchNumber(import.meta.url, 'rounds', values.rounds));
const ONLY = new Set(values.only.split(','));
const DNS_HOST = '127.88.0.53';

interface Row {
  check: string;
  what: string;
  cpuUs: number;
  rssMb: number;
  results: number;
  load: string;
}

const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

/** Runs `node args > outFile` under GNU time; returns CPU seconds, peak RSS and stderr. */
function timedNode(
  args: string[],
  outFile: string,
): Promise<{ cpuS: number; rssMb: number; stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const script = `exec "$0" "$@" > '${outFile}'`;
    const child = spawn(
      '/usr/bin/time',
      ['-f', 'FPTIME %U %S %M', 'sh', '-c', script, process.execPath, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr = (stderr + d).slice(-20_000);
    });
    child.stdout.resume();
    child.once('error', reject);
    child.once('exit', async (code) => {
      const m = /FPTIME ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
      const stdout = await readFile(outFile, 'utf8').catch(() => '');
      resolve({
        cpuS: m ? Number(m[1]) + Number(m[2]) : Number.NaN,
        rssMb: m ? Number(m[3]) / 1024 : Number.NaN,
        stdout,
        stderr,
        code,
      });
    });
  });
}

async function cliRow(check: string, what: string, args: string[], dir: string): Promise<Row> {
  const out = path.join(dir, `${check}.jsonl`);
  const l = load();
  const r = await timedNode([CLI, 'run', check, ...args, '-o', 'jsonl', '--no-progress'], out);
  const results = r.stdout.split('\n').filter((x) => x !== '').length;
  if (results === 0)
    throw new Error(`run ${check} produced nothing (exit ${r.code}): ${r.stderr.slice(-500)}`);
  await rm(out, { force: true });
  return { check, what, cpuUs: (r.cpuS * 1e6) / results, rssMb: r.rssMb, results, load: l };
}

/** The last JSON line a child printed. */
function lastJson<T>(text: string): T {
  return JSON.parse(text.trim().split('\n').pop() ?? '{}') as T;
}

async function dnsRows(dir: string): Promise<Row[]> {
  const zone = 'bench.test';
  const addressOf = (i: number) => `127.${64 + ((i >>> 16) & 63)}.${(i >>> 8) & 255}.${i & 255}`;
  const lines = [
    `$ORIGIN ${zone}.\n$TTL 300\n@ SOA ns.${zone}. hostmaster.${zone}. 1 3600 600 86400 300\n@ NS ns\n`,
  ];
  const names: string[] = [];
  for (let i = 0; i < NAMES; i++) {
    lines.push(`n${i} A ${addressOf(i)}\n`);
    names.push(`n${i}.${zone}\n`);
  }
  const namesFile = path.join(dir, 'names.txt');
  await writeFile(namesFile, names.join(''));
  const port = await freePort();
  const knot = await startKnot({
    host: DNS_HOST,
    port,
    zone,
    zoneText: lines.join(''),
    loadTimeoutMs: 600_000,
  });
  const rows: Row[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      rows.push(
        await cliRow(
          'dns',
          `${NAMES} names, knotd, -c 256`,
          ['-f', namesFile, '--arg', `server=${DNS_HOST}:${port}`],
          dir,
        ),
      );
      const l = load();
      const raw = await timedNode(
        [
          '--import',
          'tsx',
          path.join(ROOT, 'bench', 'dns.ts'),
          '--child',
          'ours',
          '--names',
          String(NAMES),
          '--host',
          DNS_HOST,
          '--port',
          String(port),
          '--concurrency',
          '256',
        ],
        path.join(dir, 'raw-dns.json'),
      );
      const res = lastJson<{ cpuUs: number; ok: number }>(raw.stdout);
      rows.push({
        check: 'dns',
        what: 'DnsClient alone, 256 callers',
        cpuUs: res.cpuUs,
        rssMb: raw.rssMb,
        results: res.ok,
        load: l,
      });
    }
  } finally {
    await knot.stop();
  }
  return rows;
}

async function httpRows(dir: string): Promise<Row[]> {
  if (!nginxAvailable()) {
    console.log('# http: SKIPPED (no nginx: apt-get install nginx-light)');
    return [];
  }
  const hosts: string[] = [];
  for (let i = 0; i < HOSTS; i++) hosts.push(`${loopbackHost('127.40.0.0', i)}\n`);
  const hostsFile = path.join(dir, 'hosts.txt');
  await writeFile(hostsFile, hosts.join(''));
  const nginx = await startNginx({ workers: 1 });
  const rows: Row[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      rows.push(
        await cliRow(
          'http',
          `${HOSTS} hosts, nginx, -c ${CONCURRENCY}`,
          ['-f', hostsFile, '-a', `port=${nginx.port}`, '-c', String(CONCURRENCY)],
          dir,
        ),
      );
    }
  } finally {
    await nginx.close();
  }
  // The raw layers run with their own nginx (after this one stopped), at the same concurrency.
  for (let round = 0; round < ROUNDS; round++) {
    const l = load();
    const r = await timedNode(
      [
        '--import',
        'tsx',
        path.join(ROOT, 'bench', 'http-layer.ts'),
        '--hosts',
        String(HOSTS),
        '--concurrency',
        String(CONCURRENCY),
        '--layers',
        'raw,fleetprobe',
        '--rounds',
        '1',
      ],
      path.join(dir, 'raw-http.txt'),
    );
    for (const layer of ['raw', 'fleetprobe']) {
      // layer  ok  failed  seconds  hosts/s  cpu%  cpu us/host  maxRSS MB
      const m = new RegExp(
        `^${layer}\\s+(\\d+)\\s+\\d+\\s+[\\d.]+\\s+\\d+\\s+\\d+\\s+(\\d+)\\s+(\\d+)`,
        'm',
      ).exec(r.stdout);
      if (!m)
        throw new Error(
          `http-layer printed no ${layer} row: ${r.stdout.slice(-800)} ${r.stderr.slice(-500)}`,
        );
      rows.push({
        check: 'http',
        what: layer === 'raw' ? 'bare net GET' : 'http check alone',
        cpuUs: Number(m[2]),
        rssMb: Number(m[3]),
        results: Number(m[1]),
        load: l,
      });
    }
  }
  return rows;
}

async function tcpRows(dir: string): Promise<Row[]> {
  const closed = await freePort(); // free now: nothing listens there, every connect is refused
  const rows: Row[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    rows.push(
      await cliRow(
        'tcp',
        `${values.tcp} refused, -c ${CONCURRENCY}`,
        [values.tcp, '-a', `port=${closed}`, '-c', String(CONCURRENCY)],
        dir,
      ),
    );
    const l = load();
    const r = await timedNode(
      [
        '--import',
        'tsx',
        SELF,
        '--child',
        'tcp-raw',
        '--tcp',
        values.tcp,
        '--port',
        String(closed),
        '--concurrency',
        String(CONCURRENCY),
      ],
      path.join(dir, 'raw-tcp.json'),
    );
    const res = lastJson<{ cpuUs: number; results: number }>(r.stdout);
    rows.push({
      check: 'tcp',
      what: 'bare net.connect',
      cpuUs: res.cpuUs,
      rssMb: r.rssMb,
      results: res.results,
      load: l,
    });
  }
  return rows;
}

/** Child: bare `net.connect` to every address of the CIDR at the concurrency, each refused or connected. */
async function childTcpRaw(): Promise<void> {
  const [base, bits] = values.tcp.split('/') as [string, string];
  const total = 2 ** (32 - Number(bits));
  const port = benchNumber(import.meta.url, 'port', values.port ?? '');
  let next = 0;
  let results = 0;
  const cpu0 = process.cpuUsage();
  const one = (host: string) =>
    new Promise<void>((resolve) => {
      const s = net.connect({ host, port });
      const done = () => {
        s.destroy();
        resolve();
      };
      s.once('connect', done);
      s.once('error', done);
    });
  const worker = async () => {
    while (next < total) {
      await one(loopbackHost(base, next++));
      results++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const cpu = process.cpuUsage(cpu0);
  process.stdout.write(`${JSON.stringify({ cpuUs: (cpu.user + cpu.system) / results, results })}\n`);
}

async function main(): Promise<void> {
  if (values.child === 'tcp-raw') return childTcpRaw();
  const cpus = os.cpus();
  console.log(
    `# per-result CPU: ${cpus.length} x ${cpus[0]?.model ?? '?'}, node ${process.version}, ${new Date().toISOString().slice(0, 10)}, load ${load()}`,
  );
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fp-per-result-'));
  const rows: Row[] = [];
  try {
    if (ONLY.has('dns')) rows.push(...(await dnsRows(dir)));
    if (ONLY.has('http')) rows.push(...(await httpRows(dir)));
    if (ONLY.has('tcp')) rows.push(...(await tcpRows(dir)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    '\ncheck  what                                  CPU µs/result  peak RSS MB  results  load (1/5/15 min)',
  );
  for (const r of rows) {
    console.log(
      `${r.check.padEnd(6)} ${r.what.padEnd(38)} ${r.cpuUs.toFixed(0).padStart(13)}  ${r.rssMb.toFixed(0).padStart(11)}  ${String(r.results).padStart(7)}  ${r.load}`,
    );
  }
  console.log('\nbest (lowest CPU) per row:');
  const best = new Map<string, Row>();
  for (const r of rows) {
    const key = `${r.check} ${r.what}`;
    const prev = best.get(key);
    if (!prev || r.cpuUs < prev.cpuUs) best.set(key, r);
  }
  for (const [key, r] of best)
    console.log(`  ${key}: ${r.cpuUs.toFixed(0)} µs/result, ${r.rssMb.toFixed(0)} MB`);
}

await main();
