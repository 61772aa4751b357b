/**
 * bench/store.ts: what storing results costs a run, and how fast a status page is on a big run.
 *
 * Part 1, the store at the engine's full speed: a run of N targets (default 250,000) through the real engine
 * with an instant in-process check (`fail` for 1 target in 10, `pass` otherwise): the engine's own ceiling,
 * so the store's cost measured here is the worst case. Four ways: results only counted (no store), stored
 * in SQLite (file, WAL), stored in PostgreSQL, no store again (the spread of the two baselines is the noise).
 * Part 2, a real `tcp` run (expectBanner ^OK; default 20,000 hosts, as a 250,000-host tcp run takes minutes
 * on 2 cores) against loopback hosts 127.88.0.0 + i, served by a listener on 0.0.0.0 in a child process
 * that answers "OK" (or "NO" for 1 host in 10: `fail`). Same four ways.
 * Then the time of a `status=fail` page (limit 100) on the 250,000-result run, first page and deep in the
 * run; plus each store's raw insert rate (synthetic results, batches of 500).
 *
 *   npx tsx bench/store.ts [--hosts 250000] [--tcp-hosts 20000] [--concurrency 512] [--pg <url>|--no-pg] [--reps 20]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { createBuiltinRegistry } from '../src/checks/builtins.js';
import type { Check } from '../src/checks/check.js';
import { emptyCounts, type Result, type StatusCounts } from '../src/engine/result.js';
import { startRun } from '../src/engine/run.js';
import { storeResults } from '../src/sinks/store-sink.js';
import { openStore, type Store } from '../src/store/index.js';
import type { Target } from '../src/targets/target.js';
import {
  benchArgs,
  benchNumber,
  formatCount,
  formatFixed,
  formatMachineInfo,
  formatTable,
  freePort,
  loopbackHost,
  machineInfo,
  PG_FLAGS,
  pgUrlOf,
  waitForListener,
} from './lib/index.js';

const flags = benchArgs(import.meta.url, {
  hosts: { type: 'string', default: '250000' },
  'tcp-hosts': { type: 'string', default: '20000' },
  concurrency: { type: 'string', default: '512' },
  reps: { type: 'string', default: '20' },
  ...PG_FLAGS,
});
const HOSTS = benchNumber(import.meta.url, 'hosts', flags.hosts);
const TCP_HOSTS = benchNumber(import.meta.url, 'tcp-hosts', flags['tcp-hosts']);
const CONCURRENCY = benchNumber(import.meta.url, 'concurrency', flags.concurrency);
const REPS = benchNumber(import.meta.url, 'reps', flags.reps);
const PG_URL = pgUrlOf(flags);
const BASE = '127.88.0.0';

const LISTENER = `
const net = require('node:net');
const srv = net.createServer((s) => {
  s.on('error', () => {});
  const last = Number(String(s.localAddress).split('.').pop());
  s.end(last % 10 === 7 ? 'NO\\r\\n' : 'OK\\r\\n');
});
srv.listen({ host: '0.0.0.0', port: Number(process.argv[1]), backlog: 4096 }, () => process.stdout.write('ready\\n'));
`;

async function startListener(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-e', LISTENER, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await waitForListener('127.0.0.1', port);
  return { port, child };
}

async function* targets(n: number): AsyncGenerator<Target> {
  for (let i = 0; i < n; i++) yield { address: loopbackHost(BASE, i), labels: {} };
}

/** The engine's ceiling: answers at once, `fail` for addresses ending in 7 (1 in 10 of a dense block's hosts... roughly). */
const instantCheck: Check<Record<string, never>> = {
  name: 'instant',
  description: 'answers at once (bench only)',
  args: z.object({}).strict() as unknown as z.ZodType<Record<string, never>>,
  timeoutMs: 1000,
  async run(target) {
    const address = target.address ?? '';
    return address.charCodeAt(address.length - 1) === 55 /* '7' */
      ? { status: 'fail', message: 'NO' }
      : { status: 'pass', message: 'OK', data: { connectMs: 0.1 } };
  },
};

interface StoreHandle {
  name: string;
  store: Store;
  drop(): Promise<void>;
}

async function sqliteHandle(): Promise<StoreHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'fp-bench-store-'));
  const store = await openStore(join(dir, 'bench.db'));
  return {
    name: 'SQLite (file, WAL)',
    store,
    drop: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function pgHandle(url: string): Promise<StoreHandle> {
  const schema = `fp_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const store = await openStore(
    `${url}${url.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
  );
  return {
    name: 'PostgreSQL',
    store,
    async drop() {
      await store.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

interface RunMeasure {
  mode: string;
  wallMs: number;
  hosts: number;
  /** CPU time of this process (user + system), ms: the run's own work plus the store client's. */
  cpuMs: number;
  counts: StatusCounts;
  stored: number;
  runId: string;
}

async function measureRun(
  kind: { port: number } | 'instant',
  hosts: number,
  mode: string,
  handle?: StoreHandle,
): Promise<RunMeasure> {
  const check = kind === 'instant' ? (instantCheck as Check<unknown>) : createBuiltinRegistry().get('tcp');
  const args = kind === 'instant' ? {} : check.args.parse({ port: kind.port, expectBanner: '^OK' });
  const runId = `bench-${mode.replace(/\W+/g, '-')}-${randomBytes(3).toString('hex')}`;
  const counts = emptyCounts();
  let stored = 0;
  if (handle) {
    const now = new Date().toISOString();
    await handle.store.createRun({
      id: runId,
      check: check.name,
      args,
      targets: { specs: [`${BASE} + ${hosts}`] },
      options: { concurrency: CONCURRENCY, retries: 0 },
      monitor: null,
      owner: null,
      state: 'running',
      total: hosts,
      counts: emptyCounts(),
      createdAt: now,
      startedAt: now,
      finishedAt: null,
      error: null,
    });
  }
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const run = startRun({
    id: runId,
    check,
    args,
    targets: targets(hosts),
    total: HOSTS,
    concurrency: CONCURRENCY,
  });
  let results: AsyncIterable<Result> = run.results();
  if (handle) {
    results = storeResults(handle.store, results, {
      onCounts: (c) => {
        for (const v of Object.values(c)) stored += v;
      },
    });
  }
  for await (const r of results) counts[r.status]++;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  if (handle)
    await handle.store.updateRun(runId, { state: 'done', counts, finishedAt: new Date().toISOString() });
  return { mode, wallMs, cpuMs, counts, stored, runId, hosts };
}

async function pageTimes(store: Store, runId: string): Promise<{ firstMs: number[]; deepMs: number[] }> {
  // A cursor half-way through the run's failures.
  let cursor: string | undefined;
  let seen = 0;
  const half = Math.floor(HOSTS / 20);
  while (seen < half) {
    const page = await store.listResults(runId, {
      status: 'fail',
      limit: 1000,
      ...(cursor ? { cursor } : {}),
    });
    seen += page.results.length;
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  const firstMs: number[] = [];
  const deepMs: number[] = [];
  for (let i = 0; i < REPS; i++) {
    let t = performance.now();
    const a = await store.listResults(runId, { status: 'fail', limit: 100 });
    firstMs.push(performance.now() - t);
    t = performance.now();
    const b = await store.listResults(runId, { status: 'fail', limit: 100, ...(cursor ? { cursor } : {}) });
    deepMs.push(performance.now() - t);
    if (a.results.length !== 100 || b.results.some((r) => r.status !== 'fail'))
      throw new Error('unexpected page');
  }
  return { firstMs, deepMs };
}

async function insertRate(store: Store, n: number): Promise<number> {
  const runId = `bench-insert-${randomBytes(3).toString('hex')}`;
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  for (let i = 0; i < n; i += 500) {
    const batch: Result[] = [];
    for (let j = i; j < Math.min(n, i + 500); j++) {
      batch.push({
        run: runId,
        target: loopbackHost(BASE, j),
        port: 80,
        name: null,
        labels: {},
        check: 'tcp',
        status: j % 10 === 7 ? 'fail' : 'pass',
        durationMs: 0.42,
        startedAt,
        attempts: 1,
        message: 'connected',
        data: { port: 80, connectMs: 0.2 },
      });
    }
    await store.insertResults(batch);
  }
  return n / ((performance.now() - t0) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  process.stdout.write(`${formatMachineInfo(machineInfo())}\n`);
  process.stdout.write(
    `store bench: ${formatCount(HOSTS)} targets (instant check) and ${formatCount(TCP_HOSTS)} (tcp check), concurrency ${CONCURRENCY}\n\n`,
  );
  const listener = await startListener();
  const handles: StoreHandle[] = [];
  try {
    handles.push(await sqliteHandle());
    if (PG_URL) {
      try {
        handles.push(await pgHandle(PG_URL));
      } catch (err) {
        process.stdout.write(`PostgreSQL skipped: ${(err as Error).message}\n`);
      }
    }
    const table = (title: string, runs: RunMeasure[]) => {
      const rate = (r: RunMeasure) => (r.hosts / r.wallMs) * 1000;
      const baseline = Math.max(...runs.filter((r) => r.mode.startsWith('no store')).map(rate));
      process.stdout.write(
        `${title}\n${formatTable(
          [
            { header: 'run', value: (r: RunMeasure) => r.mode },
            { header: 'results/s', value: (r) => formatCount(rate(r)), align: 'right' },
            { header: 'wall s', value: (r) => formatFixed(r.wallMs / 1000, 1), align: 'right' },
            {
              header: 'store cost',
              value: (r) =>
                r.mode.startsWith('no store') ? '-' : `${formatFixed((1 - rate(r) / baseline) * 100, 1)}%`,
              align: 'right',
            },
            {
              header: 'CPU ms / 1k results',
              value: (r) => formatFixed((r.cpuMs / r.hosts) * 1000, 0),
              align: 'right',
            },
            { header: 'pass', value: (r) => formatCount(r.counts.pass), align: 'right' },
            { header: 'fail', value: (r) => formatCount(r.counts.fail), align: 'right' },
            {
              header: 'other',
              value: (r) => formatCount(r.counts.error + r.counts.timeout + r.counts.cancelled),
              align: 'right',
            },
            {
              header: 'rows stored',
              value: (r) => (r.mode.startsWith('no store') ? '-' : formatCount(r.stored)),
              align: 'right',
            },
          ],
          runs,
        )}\n\n`,
      );
    };
    const four = async (kind: { port: number } | 'instant', hosts: number) => {
      const runs: RunMeasure[] = [await measureRun(kind, hosts, 'no store (baseline)')];
      for (const h of handles) runs.push(await measureRun(kind, hosts, h.name, h));
      runs.push(await measureRun(kind, hosts, 'no store (again)'));
      return runs;
    };
    const runs = await four('instant', HOSTS);
    table(`1. engine at full speed (instant check), ${formatCount(HOSTS)} targets`, runs);
    if (TCP_HOSTS > 0) {
      table(
        `2. tcp check against a loopback listener, ${formatCount(TCP_HOSTS)} hosts`,
        await four({ port: listener.port }, TCP_HOSTS),
      );
    }
    process.stdout.write(
      'store cost = 1 - (results/s with the store) / (best results/s without); target: under 25%.\n' +
        'On a busy 2-core machine run-to-run noise is large (compare the two baselines); the CPU column is steadier.\n\n',
    );

    const rows: { name: string; first: number[]; deep: number[]; insert: number }[] = [];
    for (const [i, h] of handles.entries()) {
      const run = runs[i + 1]!;
      const { firstMs, deepMs } = await pageTimes(h.store, run.runId);
      rows.push({
        name: h.name,
        first: firstMs,
        deep: deepMs,
        insert: await insertRate(h.store, Math.min(HOSTS, 100_000)),
      });
    }
    process.stdout.write(
      `${formatTable(
        [
          { header: 'store', value: (r: (typeof rows)[number]) => r.name },
          {
            header: 'fail page, first: p50 ms',
            value: (r) => formatFixed(median(r.first), 2),
            align: 'right',
          },
          { header: 'fail page, deep: p50 ms', value: (r) => formatFixed(median(r.deep), 2), align: 'right' },
          { header: 'max ms', value: (r) => formatFixed(Math.max(...r.first, ...r.deep), 2), align: 'right' },
          { header: 'raw inserts/s (batches of 500)', value: (r) => formatCount(r.insert), align: 'right' },
        ],
        rows,
      )}\n`,
    );
    process.stdout.write(
      `status=fail pages (limit 100) on the ${formatCount(HOSTS)}-result run, ${REPS} repetitions; target: under 50 ms\n`,
    );
  } finally {
    for (const h of handles) await h.drop().catch(() => {});
    listener.child.kill('SIGTERM');
  }
}

await main();
