/**
 * bench/dashboard.ts: what the dashboard's run page asks the store for, on a 250,000-result run (issue 12:
 * first rows painted in under 1 s, failure groups in under 500 ms). Fills a SQLite file and a PostgreSQL
 * schema with the run of test/web/dashboard-scale.test.ts, then times each API call the run page makes
 * (`GET /runs/:id`, the first results page, its total, the groups) through the real server, median and worst
 * of `--reps`, cold (first call) and warm.
 *
 *   npx tsx bench/dashboard.ts [--results 250000] [--reps 9] [--pg <url>|--no-pg]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { emptyCounts } from '../src/engine/result.js';
import { buildServer } from '../src/server/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { scaleRunResult } from '../test/web/scale-run.js';
import {
  benchArgs,
  benchNumber,
  formatMachineInfo,
  formatTable,
  machineInfo,
  PG_FLAGS,
  pgUrlOf,
} from './lib/index.js';

const flags = benchArgs(import.meta.url, {
  results: { type: 'string', default: '250000' },
  reps: { type: 'string', default: '9' },
  ...PG_FLAGS,
});
const N = benchNumber(import.meta.url, 'results', flags.results);
const REPS = benchNumber(import.meta.url, 'reps', flags.reps);
const PG_URL = pgUrlOf(flags);

async function fill(store: Store, id: string): Promise<void> {
  const counts = emptyCounts();
  for (let off = 0; off < N; off += 5000) {
    const batch = Array.from({ length: Math.min(5000, N - off) }, (_, k) => scaleRunResult(id, off + k));
    for (const r of batch) counts[r.status]++;
    if (off === 0)
      await store.createRun({
        id,
        check: 'dns',
        args: { type: 'A' },
        targets: { specs: ['10.0.0.0/14'] },
        options: { concurrency: 256, retries: 0 },
        monitor: null,
        owner: null,
        state: 'running',
        total: N,
        counts,
        createdAt: new Date().toISOString(),
        startedAt: new Date().toISOString(),
        finishedAt: null,
        error: null,
      });
    await store.insertResults(batch);
  }
  await store.updateRun(id, { state: 'done', counts, finishedAt: new Date().toISOString() });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(label: string, url: string): Promise<string[][]> {
  const store = await openStore(url);
  const id = `bench-${randomBytes(4).toString('hex')}`;
  const t0 = performance.now();
  await fill(store, id);
  process.stderr.write(
    `${label}: ${N} results stored in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  const { app } = await buildServer({ store, auth: { tokens: [] } });
  const calls: [string, string][] = [
    ['run', `/api/v1/runs/${id}`],
    ['first page (100)', `/api/v1/runs/${id}/results?limit=100`],
    ['total', `/api/v1/runs/${id}/results?limit=1&total=true`],
    ['groups', `/api/v1/runs/${id}/groups`],
    ['previous (diff panel)', `/api/v1/runs/${id}/previous`],
    ['fail page + total', `/api/v1/runs/${id}/results?limit=1&total=true&status=fail`],
    ['text filter + total', `/api/v1/runs/${id}/results?limit=1&total=true&text=ECONNREFUSED`],
  ];
  const rows: string[][] = [];
  for (const [what, path] of calls) {
    const times: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const s = performance.now();
      const res = await app.inject({ method: 'GET', url: path });
      times.push(performance.now() - s);
      if (res.statusCode !== 200) throw new Error(`${path}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    rows.push([
      label,
      what,
      times[0]!.toFixed(1),
      median(times.slice(1)).toFixed(1),
      Math.max(...times.slice(1)).toFixed(1),
    ]);
  }
  await app.close();
  await store.close();
  return rows;
}

const rows: string[][] = [];
const dir = mkdtempSync(join(tmpdir(), 'fp-bench-dash-'));
try {
  rows.push(...(await measure('SQLite', join(dir, 'runs.db'))));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (PG_URL) {
  const schema = `fp_bench_dash_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    const sep = PG_URL.includes('?') ? '&' : '?';
    rows.push(
      ...(await measure(
        'PostgreSQL',
        `${PG_URL}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      )),
    );
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}
process.stdout.write(`${formatMachineInfo(machineInfo())}\n`);
const col = (header: string, i: number, align: 'left' | 'right' = 'right') => ({
  header,
  value: (r: string[]) => r[i] ?? '',
  align,
});
process.stdout.write(
  `${formatTable([col('store', 0, 'left'), col('call', 1, 'left'), col('first ms', 2), col('median ms', 3), col('worst ms', 4)], rows)}\n`,
);
