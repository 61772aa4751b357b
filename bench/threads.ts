/**
 * Issue 11's thread benchmark: `fleetprobe run tcp` over a loopback /14 (262,144 targets) against a port
 * nobody listens on (every connect refused at once: the work is fleetprobe's own, per result), with
 * `--threads 1` (the engine in the main thread) and `--threads 2` (sharded over two worker threads), the same
 * `-c`, JSONL to /dev/null. Alternated `--rounds` times, the best of each kept (a busy machine is noisy).
 * Target: 2 threads >= 1.7x one thread. CPU is user + system of the whole process (all threads).
 *
 *   npx tsx bench/threads.ts                 # 127.68.0.0/14, 2 rounds, -c 512
 *   npx tsx bench/threads.ts --quick         # a /16
 *   flags: --cidr <cidr>  --concurrency 512  --rounds 2  --threads 2
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { CLI, ROOT } from './lib/cli.js';
import {
  type Column,
  formatCount,
  formatFixed,
  formatMachineInfo,
  formatTable,
  freePort,
  machineInfo,
  mainThreadCpuSeconds,
  measureChild,
} from './lib/index.js';

const RATIO_TARGET = 1.7;

const { values } = parseArgs({
  options: {
    cidr: { type: 'string' },
    concurrency: { type: 'string', default: '512' },
    rounds: { type: 'string', default: '2' },
    threads: { type: 'string', default: '2' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  process.stdout.write(
    'npx tsx bench/threads.ts [--quick] [--cidr C] [--concurrency N] [--rounds N] [--threads N]\n',
  );
  process.exit(0);
}
const CIDR = values.cidr ?? (values.quick ? '127.68.0.0/16' : '127.68.0.0/14');
const TARGETS = 2 ** (32 - Number(CIDR.split('/')[1]));
const ROUNDS = Number(values.rounds);
const THREADS = Number(values.threads);

interface Row {
  threads: number;
  wallS: number;
  perS: number;
  cpuS: number;
  cpuUsPerResult: number;
  peakRssMb: number;
  /** CPU of the main thread (merge, JSONL, stdout), s; the rest ran on worker and V8 helper threads. */
  mainCpuS: number;
  note: string;
}

/**
 * Samples the CPU time per thread of the program (the child of GNU time, else `pid` itself) from /proc until
 * stopped; returns the main thread's last value. Linux only (NaN elsewhere).
 */
function sampleMainThreadCpu(pid: number): { stop(): number } {
  let main = Number.NaN;
  const tick = async () => {
    try {
      const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
      const node = Number(children.trim().split(/\s+/)[0]) || pid;
      const cpu = mainThreadCpuSeconds(node);
      if (!Number.isNaN(cpu)) main = cpu;
    } catch {
      // exited between ticks
    }
  };
  const timer = setInterval(() => void tick(), 100);
  return {
    stop() {
      clearInterval(timer);
      return main;
    },
  };
}

async function runOnce(threads: number, closedPort: number): Promise<Row> {
  let sampler: { stop(): number } | undefined;
  const m = await measureChild(
    process.execPath,
    [
      CLI,
      'run',
      'tcp',
      CIDR,
      '-a',
      `port=${closedPort}`,
      '-c',
      values.concurrency,
      '-t',
      '2s',
      '-o',
      'jsonl',
      '--no-progress',
      '--threads',
      String(threads),
    ],
    { cwd: ROOT, onSpawn: (pid) => (sampler = sampleMainThreadCpu(pid)) },
  );
  const mainCpuS = sampler?.stop() ?? Number.NaN;
  const summary = m.stderr.trim().split('\n').slice(-3).join(' / ');
  const errors = Number(/([\d,]+) error/.exec(m.stderr)?.[1]?.replace(/,/g, '') ?? 0);
  const ok = m.exitCode === 1 && errors === TARGETS;
  return {
    threads,
    wallS: m.wallS,
    perS: TARGETS / m.wallS,
    cpuS: m.cpuS,
    cpuUsPerResult: (m.cpuS * 1e6) / TARGETS,
    peakRssMb: m.peakRssMb,
    mainCpuS,
    note: ok ? summary : `UNEXPECTED exit ${m.exitCode}, ${errors} errors: ${summary}`,
  };
}

const closedPort = await freePort(); // free now: nobody listens, every connect is refused
process.stdout.write(`${formatMachineInfo(machineInfo())}\n`);
process.stdout.write(
  `run tcp ${CIDR} (${formatCount(TARGETS)} targets) -a port=${closedPort} -c ${values.concurrency}\n`,
);
const best = new Map<number, Row>();
const all: Row[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const threads of round % 2 === 0 ? [1, THREADS] : [THREADS, 1]) {
    const row = await runOnce(threads, closedPort);
    all.push(row);
    process.stdout.write(
      `  round ${round + 1} --threads ${threads}: ${formatFixed(row.wallS, 2)} s, ${formatCount(row.perS)}/s, CPU ${formatFixed(row.cpuS, 1)} s (main thread ${formatFixed(row.mainCpuS, 1)} s), RSS ${formatFixed(row.peakRssMb, 0)} MB, load ${machineInfo().loadAvg1m}\n`,
    );
    const prev = best.get(threads);
    if (!prev || row.wallS < prev.wallS) best.set(threads, row);
  }
}
const one = best.get(1) as Row;
const many = best.get(THREADS) as Row;
const ratio = one.wallS / many.wallS;
const columns: Column<Row>[] = [
  { header: 'threads', value: (r) => String(r.threads), align: 'right' },
  { header: 'wall s', value: (r) => formatFixed(r.wallS, 2), align: 'right' },
  { header: 'results/s', value: (r) => formatCount(r.perS), align: 'right' },
  { header: 'CPU s', value: (r) => formatFixed(r.cpuS, 1), align: 'right' },
  { header: 'CPU µs/result', value: (r) => formatFixed(r.cpuUsPerResult, 1), align: 'right' },
  {
    header: 'main thread µs/result',
    value: (r) => formatFixed((r.mainCpuS * 1e6) / TARGETS, 1),
    align: 'right',
  },
  { header: 'peak RSS MB', value: (r) => formatFixed(r.peakRssMb, 0), align: 'right' },
  { header: 'summary', value: (r) => r.note.replace(/\|/g, '/') },
];
process.stdout.write(`\nbest of ${ROUNDS} round(s) each:\n${formatTable(columns, [one, many])}\n`);
process.stdout.write(
  `\n${THREADS} threads vs 1: ${ratio.toFixed(2)}x (target >= ${RATIO_TARGET}x: ${ratio >= RATIO_TARGET ? 'met' : 'NOT met'}); load average now ${machineInfo().loadAvg1m}\n`,
);
