/**
 * Start-up of `fleetprobe run http`: from exec to the first connect (wall and CPU), and the whole process's
 * CPU and peak RSS, for one target, next to `node -e 0` and the bare client (bench/bare-http.mjs) doing the
 * same one request. `--threads 2` is forced onto the one target (FLEETPROBE_TEST_THREADS_BELOW=1) to show
 * what the worker threads add. The target is a local listener answering `200 OK`; loopback only.
 *
 *   npm run build && npx tsx bench/startup.ts [--rounds 10]
 *
 * Rows alternate round by round; each prints its median and minimum (on a shared machine only the minimum and
 * CPU mean much). The first connect is seen by a preloaded hook on the TCP handle's `connect` (bench/lib/first-connect.mjs).
 */
import { createServer } from 'node:net';
import path from 'node:path';
import {
  benchArgs,
  benchNumber,
  CLI,
  type Column,
  ensureBuilt,
  formatFixed,
  formatMachineInfo,
  formatTable,
  machineInfo,
  measureChild,
  ROOT,
} from './lib/index.js';

const values = benchArgs(import.meta.url, { rounds: { type: 'string', default: '10' } });
const ROUNDS = Math.max(1, benchNumber(import.meta.url, 'rounds', values.rounds));
const HOOK = path.join(ROOT, 'bench', 'lib', 'first-connect.mjs');
const BARE = path.join(ROOT, 'bench', 'bare-http.mjs');

interface Sample {
  firstConnectMs: number;
  firstConnectCpuMs: number;
  cpuMs: number;
  rssMb: number;
}

interface Variant {
  what: string;
  args: (port: number) => string[];
  env?: NodeJS.ProcessEnv;
}

const VARIANTS: Variant[] = [
  { what: 'node -e 0', args: () => ['-e', '0'] },
  {
    what: 'bare-http.mjs, 1 host',
    args: (port) => [BARE, '--base', '127.0.0.1', '--hosts', '1', '--port', String(port)],
  },
  {
    what: 'fleetprobe run http, 1 target',
    args: (port) => [CLI, 'run', 'http', '127.0.0.1', '-a', `port=${port}`, '-o', 'jsonl', '--no-progress'],
  },
  {
    what: 'fleetprobe run http, 1 target, --threads 2 (forced)',
    args: (port) => [
      CLI,
      'run',
      'http',
      '127.0.0.1',
      '-a',
      `port=${port}`,
      '-o',
      'jsonl',
      '--no-progress',
      '--threads',
      '2',
    ],
    env: { ...process.env, FLEETPROBE_TEST_THREADS_BELOW: '1' },
  },
];

async function sample(v: Variant, port: number): Promise<Sample> {
  const spawnedAt = performance.timeOrigin + performance.now();
  const m = await measureChild(process.execPath, ['--import', HOOK, ...v.args(port)], {
    cwd: ROOT,
    ...(v.env ? { env: v.env } : {}),
  });
  if (m.exitCode !== 0) throw new Error(`${v.what}: exit ${m.exitCode}: ${m.stderr.slice(-500)}`);
  // One line per thread that connected: the earliest is the process's first connect.
  const first = [...m.stderr.matchAll(/FIRST_CONNECT ([\d.]+) ([\d.]+)/g)].sort(
    (a, b) => Number(a[1]) - Number(b[1]),
  )[0];
  return {
    firstConnectMs: first ? Number(first[1]) - spawnedAt : Number.NaN,
    firstConnectCpuMs: first ? Number(first[2]) : Number.NaN,
    cpuMs: m.cpuS * 1000,
    rssMb: m.peakRssMb,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] ?? Number.NaN;
const min = (xs: number[]) => Math.min(...xs);

async function main(): Promise<void> {
  const machine = machineInfo();
  await ensureBuilt();
  const server = createServer((s) => {
    s.on('error', () => {});
    s.end('HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const samples = new Map<string, Sample[]>(VARIANTS.map((v) => [v.what, []]));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const v of VARIANTS) samples.get(v.what)!.push(await sample(v, port));
    }
  } finally {
    server.close();
  }
  type Row = { what: string; s: Sample[] };
  const rows: Row[] = VARIANTS.map((v) => ({ what: v.what, s: samples.get(v.what)! }));
  const stat = (pick: (s: Sample) => number) => (r: Row) => {
    const xs = r.s.map(pick);
    return xs.every(Number.isNaN) ? '-' : `${formatFixed(median(xs), 0)} (${formatFixed(min(xs), 0)})`;
  };
  const columns: Column<Row>[] = [
    { header: 'what', value: (r) => r.what },
    { header: 'first connect ms', value: stat((s) => s.firstConnectMs), align: 'right' },
    { header: 'CPU to first connect ms', value: stat((s) => s.firstConnectCpuMs), align: 'right' },
    { header: 'process CPU ms', value: stat((s) => s.cpuMs), align: 'right' },
    { header: 'peak RSS MB', value: stat((s) => s.rssMb), align: 'right' },
  ];
  process.stdout.write(`\nfleetprobe start-up (issue 11)\n${formatMachineInfo(machine)}\n`);
  process.stdout.write(`median (minimum) of ${ROUNDS} alternating rounds\n\n${formatTable(columns, rows)}\n`);
}

await main();
