/**
 * Micro tier: what `run --threads` costs the main thread per result it receives from a worker thread, by
 * result form (src/distributed/thread-protocol.ts `ResultForm`):
 * - objects: the batch's JSON array text parsed (`decodeResultLines`), each result summarised (`add`) and
 *   written (its line): what `-o table|csv`, `--db` and `--search-index` need;
 * - lines: the batch's UTF-8 lines written as they are and its outcomes summarised (`addBatch`): `-o jsonl`;
 * - outcomes: outcomes only: `-o summary|groups`.
 * A worker thread makes the batches (BATCH_MAX results, at most BATCH_CREDIT unacknowledged, as the thread
 * executor's threads do); main takes them as `fleetprobe run` does, writing to /dev/null through `TextOutput`.
 * Two kinds of results: `dns`, every result a pass (a bulk resolution), and `tcp`, every result `error
 * connect ECONNREFUSED` (a sweep of closed ports: every result a failure to fold into its group).
 * Main's CPU is its own thread's (Linux /proc/self/task), best of `--rounds`.
 *
 *   npx tsx bench/thread-batches.ts [--results 200000] [--rounds 3] [--kinds dns,tcp] [--forms objects,lines,outcomes]
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { threadModule } from '../src/core/thread-module.js';
import type { ResultForm } from '../src/distributed/thread-protocol.js';
import { BATCH_CREDIT, BATCH_MAX } from '../src/distributed/thread-protocol.js';
import type { LinesBatch } from '../src/engine/outcome-batch.js';
import { OutcomeSummary } from '../src/engine/outcome-summary.js';
import type { Result } from '../src/engine/result.js';
import { TextOutput } from '../src/sinks/output.js';
import {
  decodeResultLines,
  encodeResultLines,
  linesBatch,
  type ResultLines,
  resultLine,
} from '../src/sinks/result-line.js';
import { intToIpv4 } from '../src/targets/ip.js';
import {
  benchArgs,
  benchNumber,
  type Column,
  formatFixed,
  formatMachineInfo,
  formatTable,
  machineInfo,
} from './lib/index.js';

type Kind = 'dns' | 'tcp';
interface Job {
  readonly kind: Kind;
  readonly form: ResultForm;
  readonly results: number;
}

const FIRST = 0x7f400000; // 127.64.0.0

/** The i-th result of a run of `kind`, as the dns and tcp checks make them. */
function result(kind: Kind, i: number): Result {
  const target = intToIpv4(FIRST + i);
  const common = {
    run: '3cff38e8-ff47-41ee-88b8-160b9456c42b',
    labels: {},
    durationMs: 1 + (i % 97) / 10,
    startedAt: new Date(1_790_000_000_000 + i).toISOString(),
    attempts: 1,
  };
  return kind === 'dns'
    ? {
        ...common,
        target: '127.88.0.53',
        port: 53,
        name: `n${i}.bench.test`,
        check: 'dns',
        status: 'pass',
        message: `NOERROR A ${target}`,
        reason: 'NOERROR',
        data: { rcode: 'NOERROR', answers: [target], server: '127.88.0.53:53', rttMs: 0.41 },
      }
    : {
        ...common,
        target,
        port: 9,
        name: null,
        check: 'tcp',
        status: 'error',
        message: 'connect ECONNREFUSED',
        reason: 'connect ECONNREFUSED',
        data: { port: 9 },
      };
}

/** Worker: sends `results` results of `kind` in batches of `form`, at most BATCH_CREDIT unacknowledged. */
async function makeBatches(job: Job): Promise<void> {
  const port = parentPort!;
  let credit = BATCH_CREDIT;
  let wake: (() => void) | undefined;
  port.on('message', () => {
    credit++;
    wake?.();
  });
  for (let at = 0; at < job.results; at += BATCH_MAX) {
    const batch: Result[] = [];
    for (let i = at; i < Math.min(job.results, at + BATCH_MAX); i++) batch.push(result(job.kind, i));
    while (credit <= 0) await new Promise<void>((r) => (wake = r));
    credit--;
    if (job.form === 'objects') port.postMessage(encodeResultLines(batch));
    else {
      const b = linesBatch(batch, job.form === 'lines');
      port.postMessage(b, b.lines.byteLength > 0 ? [b.lines.buffer as ArrayBuffer] : []);
    }
  }
  port.postMessage(null);
}

/** CPU of this process's main thread so far, µs (Linux: /proc/self/task/<pid>/stat, 10 ms ticks). */
function mainThreadCpuUs(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** Main: takes every batch as `fleetprobe run` does; returns main's CPU per result, µs. */
async function takeBatches(job: Job): Promise<number> {
  const { url, argv } = threadModule(import.meta.url, './thread-batches.js');
  const worker = new Worker(url, { workerData: job, argv });
  const out = new TextOutput(createWriteStream('/dev/null'));
  const summary = new OutcomeSummary();
  const queue: (ResultLines | LinesBatch | null)[] = [];
  let wake: (() => void) | undefined;
  worker.on('message', (m: ResultLines | LinesBatch | null) => {
    queue.push(m);
    wake?.();
  });
  let cpu0: number | undefined;
  for (;;) {
    const batch = queue.shift();
    if (batch === undefined) {
      await new Promise<void>((r) => (wake = r));
      continue;
    }
    cpu0 ??= mainThreadCpuUs(); // from the first batch: not the worker's start-up
    if (batch === null) break;
    worker.postMessage('ack');
    if ('outcomes' in batch) {
      summary.addBatch(batch.outcomes);
      if (batch.lines.byteLength > 0) await out.write(batch.lines);
    } else {
      for (const r of decodeResultLines(batch)) {
        summary.add(r);
        await out.write(resultLine(r));
      }
    }
  }
  summary.groups(); // the summary's fold, as `finish` does
  await out.flush();
  const cpuUs = mainThreadCpuUs() - (cpu0 ?? 0);
  await worker.terminate();
  if (summary.total !== job.results) throw new Error(`took ${summary.total} of ${job.results} results`);
  return cpuUs / job.results;
}

async function main(): Promise<void> {
  const values = benchArgs(import.meta.url, {
    results: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
    kinds: { type: 'string', default: 'dns,tcp' },
    forms: { type: 'string', default: 'objects,lines,outcomes' },
  });
  const results = benchNumber(import.meta.url, 'results', values.results);
  const rounds = benchNumber(import.meta.url, 'rounds', values.rounds);
  const kinds = values.kinds.split(',') as Kind[];
  const forms = values.forms.split(',') as ResultForm[];
  process.stdout.write(`${formatMachineInfo(machineInfo())}\n`);
  const best = new Map<string, number>();
  for (let round = 0; round < rounds; round++) {
    for (const kind of kinds) {
      for (const form of forms) {
        const us = await takeBatches({ kind, form, results });
        const key = `${kind} ${form}`;
        best.set(key, Math.min(best.get(key) ?? Number.POSITIVE_INFINITY, us));
      }
    }
  }
  type Row = { kind: string; form: string; us: number; vsObjects: number };
  const rows: Row[] = [...best].map(([key, us]) => {
    const [kind, form] = key.split(' ') as [string, string];
    return { kind, form, us, vsObjects: us / (best.get(`${kind} objects`) ?? Number.NaN) };
  });
  const columns: Column<Row>[] = [
    { header: 'results', value: (r) => r.kind },
    { header: 'form', value: (r) => r.form },
    { header: 'main CPU µs/result', value: (r) => formatFixed(r.us, 2), align: 'right' },
    { header: 'x objects', value: (r) => formatFixed(r.vsObjects, 2), align: 'right' },
  ];
  process.stdout.write(`\n${formatTable(columns, rows)}\n`);
}

if (isMainThread) await main();
else await makeBatches(workerData as Job);
