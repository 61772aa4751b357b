/**
 * Issue 11's thread benchmark: `fleetprobe run tcp` over a loopback /14 (262,144 targets) against a port
 * nobody listens on (every connect refused at once: the work is fleetprobe's own, per result), with
 * `--threads 1` (the engine in the main thread) and `--threads 2` (sharded over two worker threads), the same
 * `-c`, JSONL to /dev/null. Alternated `--rounds` times, the best of each kept (a busy machine is noisy).
 * Target: 2 threads >= 1.7x one thread. CPU is user + system of the whole process (all threads).
 *
 * The ceiling: the one-thread run already keeps more than one core busy (V8's GC and compiler threads beside
 * main, and the kernel's side of each connect in main's system time), so on 2 cores no split can beat
 * 2 x its wall time / its CPU time unless it spends less CPU in all. Each round also runs the way without
 * threads: two separate `--threads 1` processes at once, one per half of the CIDR (as a user of pssh-like tools
 * would split it), nothing shared between them.
 *
 *   npx tsx bench/threads.ts                 # 127.68.0.0/14, 2 rounds, -c 512
 *   npx tsx bench/threads.ts --quick         # a /16
 *   flags: --cidr <cidr>  --concurrency 512  --rounds 2  --threads 2
 */
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { intToIpv4, ipv4ToInt } from '../src/targets/ip.js';
import { CLI, ROOT } from './lib/cli.js';
import {
  benchArgs,
  benchNumber,
  benchUsageError,
  type Column,
  formatCount,
  formatFixed,
  formatMachineInfo,
  formatTable,
  freePort,
  type Measured,
  machineInfo,
  mainThreadCpuSeconds,
  measureChild,
} from './lib/index.js';

const RATIO_TARGET = 1.7;

const values = benchArgs(import.meta.url, {
  cidr: { type: 'string' },
  concurrency: { type: 'string', default: '512' },
  rounds: { type: 'string', default: '2' },
  threads: { type: 'string', default: '2' },
  quick: { type: 'boolean', default: false },
});
const CIDR = values.cidr ?? (values.quick ? '127.68.0.0/16' : '127.68.0.0/14');
if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}\/(8|9|[12]\d|3[01])$/.test(CIDR)) {
  benchUsageError(import.meta.url, `--cidr: ${CIDR} is not a CIDR of 2 addresses or more inside 127.0.0.0/8`);
}
const TARGETS = 2 ** (32 - Number(CIDR.split('/')[1]));
const ROUNDS = benchNumber(import.meta.url, 'rounds', values.rounds);
const THREADS = benchNumber(import.meta.url, 'threads', values.threads);
const CORES = availableParallelism();

interface Row {
  /** `--threads` of the one process, or 0 for two `--threads 1` processes at once on the halves. */
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

function cliArgs(cidr: string, threads: number, closedPort: number): string[] {
  return [
    CLI,
    'run',
    'tcp',
    cidr,
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
  ];
}

/** The summary's error count must be every target of `cidr`: each connect refused, none lost. */
function checkedNote(m: Measured, targets: number): string {
  const summary = m.stderr.trim().split('\n').slice(-3).join(' / ');
  const errors = Number(/([\d,]+) error/.exec(m.stderr)?.[1]?.replace(/,/g, '') ?? 0);
  return m.exitCode === 1 && errors === targets
    ? summary
    : `UNEXPECTED exit ${m.exitCode}, ${errors} errors of ${targets}: ${summary}`;
}

async function runOnce(threads: number, closedPort: number): Promise<Row> {
  let sampler: { stop(): number } | undefined;
  const m = await measureChild(process.execPath, cliArgs(CIDR, threads, closedPort), {
    cwd: ROOT,
    onSpawn: (pid) => (sampler = sampleMainThreadCpu(pid)),
  });
  const mainCpuS = sampler?.stop() ?? Number.NaN;
  return {
    threads,
    wallS: m.wallS,
    perS: TARGETS / m.wallS,
    cpuS: m.cpuS,
    cpuUsPerResult: (m.cpuS * 1e6) / TARGETS,
    peakRssMb: m.peakRssMb,
    mainCpuS,
    note: checkedNote(m, TARGETS),
  };
}

/** The CIDR's two halves, e.g. 127.68.0.0/14 -> 127.68.0.0/15 and 127.70.0.0/15. */
function halves(cidr: string): [string, string] {
  const [address, bits] = cidr.split('/') as [string, string];
  const prefix = Number(bits) + 1;
  const base = ipv4ToInt(address);
  return [`${intToIpv4(base)}/${prefix}`, `${intToIpv4(base + 2 ** (32 - prefix))}/${prefix}`];
}

/** The split without threads: two `--threads 1` processes at once, one per half; wall is until both exit. */
async function runPair(closedPort: number): Promise<Row> {
  const t0 = performance.now();
  const pair = await Promise.all(
    halves(CIDR).map((half) => measureChild(process.execPath, cliArgs(half, 1, closedPort), { cwd: ROOT })),
  );
  const wallS = (performance.now() - t0) / 1000;
  const cpuS = pair.reduce((sum, m) => sum + m.cpuS, 0);
  return {
    threads: 0,
    wallS,
    perS: TARGETS / wallS,
    cpuS,
    cpuUsPerResult: (cpuS * 1e6) / TARGETS,
    peakRssMb: pair.reduce((sum, m) => sum + m.peakRssMb, 0),
    mainCpuS: Number.NaN,
    note: pair.map((m) => checkedNote(m, TARGETS / 2)).join(' // '),
  };
}

const label = (threads: number) => (threads === 0 ? '2 processes' : `--threads ${threads}`);

const closedPort = await freePort(); // free now: nobody listens, every connect is refused
process.stdout.write(`${formatMachineInfo(machineInfo())}\n`);
process.stdout.write(
  `run tcp ${CIDR} (${formatCount(TARGETS)} targets) -a port=${closedPort} -c ${values.concurrency}\n`,
);
const best = new Map<number, Row>();
const ORDER = [1, THREADS, 0];
for (let round = 0; round < ROUNDS; round++) {
  for (const threads of round % 2 === 0 ? ORDER : [...ORDER].reverse()) {
    const row = threads === 0 ? await runPair(closedPort) : await runOnce(threads, closedPort);
    const main = threads === 0 ? '' : ` (main thread ${formatFixed(row.mainCpuS, 1)} s)`;
    process.stdout.write(
      `  round ${round + 1} ${label(threads)}: ${formatFixed(row.wallS, 2)} s, ${formatCount(row.perS)}/s, CPU ${formatFixed(row.cpuS, 1)} s${main}, RSS ${formatFixed(row.peakRssMb, 0)} MB, load ${machineInfo().loadAvg1m}\n`,
    );
    const prev = best.get(threads);
    if (!prev || row.wallS < prev.wallS) best.set(threads, row);
  }
}
const one = best.get(1) as Row;
const many = best.get(THREADS) as Row;
const pair = best.get(0) as Row;
const ratio = one.wallS / many.wallS;
const split = one.wallS / pair.wallS;
/** The most a split over the cores can give without spending less CPU in all than one thread. */
const ceiling = (CORES * one.wallS) / one.cpuS;
const columns: Column<Row>[] = [
  { header: 'run', value: (r) => label(r.threads) },
  { header: 'wall s', value: (r) => formatFixed(r.wallS, 2), align: 'right' },
  { header: 'results/s', value: (r) => formatCount(r.perS), align: 'right' },
  { header: 'CPU s', value: (r) => formatFixed(r.cpuS, 1), align: 'right' },
  { header: 'CPU µs/result', value: (r) => formatFixed(r.cpuUsPerResult, 1), align: 'right' },
  {
    header: 'main thread µs/result',
    value: (r) => (r.threads === 0 ? '' : formatFixed((r.mainCpuS * 1e6) / TARGETS, 1)),
    align: 'right',
  },
  { header: 'peak RSS MB', value: (r) => formatFixed(r.peakRssMb, 0), align: 'right' },
  { header: 'summary', value: (r) => r.note.replace(/\|/g, '/') },
];
process.stdout.write(
  `\nbest of ${ROUNDS} round(s) each (2 processes: two --threads 1 at once, one per half, RSS summed):\n${formatTable(columns, [one, many, pair])}\n`,
);
process.stdout.write(
  `\n${THREADS} threads vs 1: ${ratio.toFixed(3)}x (target >= ${RATIO_TARGET}x: ${ratio >= RATIO_TARGET ? 'met' : 'NOT met'})\n` +
    `ceiling on ${CORES} cores: ${CORES} x ${formatFixed(one.wallS, 2)} s / ${formatFixed(one.cpuS, 1)} s of CPU = ${ceiling.toFixed(2)}x, so ${THREADS} threads reach ${Math.round((100 * ratio) / ceiling)}% of it\n` +
    `two separate --threads 1 processes, one per half, vs 1: ${split.toFixed(2)}x; load average now ${machineInfo().loadAvg1m}\n`,
);
