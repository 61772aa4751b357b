/**
 * bench/store.ts: what storing results costs a run, and how fast a status page is on a big run.
 *
 * A `tcp` run (expectBanner ^OK) against N loopback hosts 127.30.0.0 + i, served by a listener on 0.0.0.0 in
 * a child process that answers "OK" (or "NO" for 1 host in 10, so those results are `fail`). The same run
 * three ways: results only counted (no store), stored in SQLite (file, WAL), stored in PostgreSQL; then
 * the time of a `status=fail` page (limit 100) on the stored run, first page and deep in the run; plus the
 * raw insert rate of each store (synthetic results, batches of 500).
 *
 *   npx tsx bench/store.ts [--hosts 250000] [--concurrency 512] [--pg <url>|--no-pg] [--reps 20]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createBuiltinRegistry } from '../src/checks/builtins.js';
import { emptyCounts, type Result, type StatusCounts } from '../src/engine/result.js';
import { startRun } from '../src/engine/run.js';
import { storeResults } from '../src/sinks/store-sink.js';
import { openStore, type Store } from '../src/store/index.js';
import type { Target } from '../src/targets/target.js';
import {
  formatCount,
  formatFixed,
  formatMachineInfo,
  formatTable,
  freePort,
  loopbackHost,
  machineInfo,
  waitForListener,
} from './lib/index.js';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i !== -1 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}
const HOSTS = Number(flag('hosts', '250000'));
const CONCURRENCY = Number(flag('concurrency', '512'));
const REPS = Number(flag('reps', '20'));
const PG_URL = process.argv.includes('--no-pg')
  ? undefined
  : flag('pg', process.env.FLEETPROBE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test');
const BASE = '127.30.0.0';

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
  /** CPU time of this process (user + system), ms: the run's own work plus the store client's. */
  cpuMs: number;
  counts: StatusCounts;
  stored: number;
  runId: string;
}

async function measureRun(port: number, mode: string, handle?: StoreHandle): Promise<RunMeasure> {
  const check = createBuiltinRegistry().get('tcp');
  const args = check.args.parse({ port, expectBanner: '^OK' });
  const runId = `bench-${mode.replace(/\W+/g, '-')}-${randomBytes(3).toString('hex')}`;
  const counts = emptyCounts();
  let stored = 0;
  if (handle) {
    const now = new Date().toISOString();
    await handle.store.createRun({
      id: runId,
      check: 'tcp',
      args,
      targets: { specs: [`${BASE} + ${HOSTS}`] },
      options: { concurrency: CONCURRENCY },
      state: 'running',
      total: HOSTS,
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
    targets: targets(HOSTS),
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
  return { mode, wallMs, cpuMs, counts, stored, runId };
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
    `store bench: ${formatCount(HOSTS)} targets, tcp check, concurrency ${CONCURRENCY}\n\n`,
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
    const runs: RunMeasure[] = [];
    runs.push(await measureRun(listener.port, 'no store (baseline)'));
    for (const h of handles) runs.push(await measureRun(listener.port, h.name, h));
    runs.push(await measureRun(listener.port, 'no store (again)'));
    const baseline = Math.max(
      ...runs.filter((r) => r.stored === 0 && r.mode.startsWith('no store')).map((r) => HOSTS / r.wallMs),
    );
    process.stdout.write(
      `${formatTable(
        [
          { header: 'run', value: (r: RunMeasure) => r.mode },
          { header: 'results/s', value: (r) => formatCount((HOSTS / r.wallMs) * 1000), align: 'right' },
          { header: 'wall s', value: (r) => formatFixed(r.wallMs / 1000, 1), align: 'right' },
          {
            header: 'store cost',
            value: (r) =>
              r.mode.startsWith('no store')
                ? '-'
                : `${formatFixed((1 - HOSTS / r.wallMs / baseline) * 100, 1)}%`,
            align: 'right',
          },
          {
            header: 'CPU ms / 1k results',
            value: (r) => formatFixed((r.cpuMs / HOSTS) * 1000, 0),
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
      )}\n`,
    );
    process.stdout.write(
      'store cost = 1 - (results/s with the store) / (best results/s without); target: under 25%.\n' +
        'On a busy 2-core machine run-to-run noise is about +-15%; the CPU column and the raw insert rate below\n' +
        "are steadier: the store's share of a run ~ (run results/s) / (raw inserts/s).\n\n",
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
          {
            header: 'est. share of the run',
            value: (r) => `${formatFixed(((HOSTS / runs[0]!.wallMs) * 1000 * 100) / r.insert, 1)}%`,
            align: 'right',
          },
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
