/**
 * Micro benchmark of the monitor runtime's per-target cost: `npx tsx --expose-gc bench/monitor-state.ts
 * [--targets 250000] [--db <sqlite path | postgres:// URL>]`. Prints the heap + array-buffer bytes per target
 * of the TargetTable (committed state, key, labels) and of one hour of rollup aggregates, the CPU time of a
 * round's buffering and commit, and, with --db, the time to write every target's state (bulk upsert) and one
 * hour of rollups.
 */
import type { Result } from '../src/engine/result.js';
import { targetRecordOf } from '../src/monitor/monitor-runtime.js';
import { RollupAggregator } from '../src/monitor/rollup-aggregator.js';
import { policyOf } from '../src/monitor/state-machine.js';
import { TargetTable } from '../src/monitor/target-table.js';
import { openStore } from '../src/store/index.js';
import { benchArgs, benchNumber } from './lib/index.js';

const values = benchArgs(import.meta.url, {
  targets: { type: 'string', default: '250000' },
  db: { type: 'string' },
});
const n = benchNumber(import.meta.url, 'targets', values.targets);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npx tsx --expose-gc ...)');
const used = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
/** Wall and CPU time since `t` (the machine may be shared: CPU time is this process's own cost). */
const since = (t: { wall: number; cpu: NodeJS.CpuUsage }) => {
  const c = process.cpuUsage(t.cpu);
  return `${(performance.now() - t.wall).toFixed(0)} ms wall, ${((c.user + c.system) / 1000).toFixed(0)} ms cpu`;
};
const mark = () => ({ wall: performance.now(), cpu: process.cpuUsage() });
const ip = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
const LABELS = [
  { region: 'eu', role: 'edge' },
  { region: 'us', role: 'edge' },
];
const policy = policyOf({ downAfter: 2, upAfter: 1 });

function feed(t: TargetTable, run: string, round: number) {
  const startedAt = new Date(Date.UTC(2026, 0, 1, 0, round)).toISOString();
  for (let i = 0; i < n; i++) {
    const r: Result = {
      run,
      target: ip(i),
      port: 80,
      name: null,
      labels: LABELS[i & 1]!,
      check: 'tcp',
      status: (i + round) % 50 === 0 ? 'fail' : 'pass',
      durationMs: 1 + (i % 20),
      startedAt,
      attempts: 1,
      message: 'connected',
      data: {},
    };
    t.observe(r, policy);
  }
}

const before = used();
const table = new TargetTable(1024);
const rollups = new RollupAggregator();
let t0 = mark();
feed(table, 'run-1', 1);
const observeTime = since(t0);
t0 = mark();
const first = table.commit(policy, (slot, status, atMs, d) => rollups.add(slot, status, atMs, d));
const commitTime = since(t0);
const firstTransitions = first.transitions.length;
first.transitions.length = 0; // not part of the table's footprint
first.updated.length = 0;
const rollupBytes = used() - before;
rollups.drain();
const tableBytes = used() - before;
let out = first;
for (let round = 2; round <= 5; round++) {
  feed(table, `run-${round}`, round);
  out = table.commit(policy, (slot, status, atMs, d) => rollups.add(slot, status, atMs, d));
}

console.log(`targets                      ${n}`);
console.log(`TargetTable bytes/target     ${(tableBytes / n).toFixed(1)}`);
console.log(`+ rollups (1 h) bytes/target ${((rollupBytes - tableBytes) / n).toFixed(1)}`);
console.log(`buffer a round (observe)     ${observeTime}`);
console.log(`commit a round               ${commitTime} (${firstTransitions} transitions)`);

if (values.db) {
  const store = await openStore(values.db);
  try {
    const rows = out.updated.map((slot) => targetRecordOf('bench', table.snapshot(slot)));
    for (const pass of ['insert', 'update']) {
      t0 = mark();
      for (let i = 0; i < rows.length; i += 5000)
        await store.monitors.upsertTargetStates(rows.slice(i, i + 5000));
      console.log(`${store.dialect} upsert states (${pass})  ${since(t0)}`);
    }
    const deltas = rollups.drain().map((d) => {
      const s = table.snapshot(d.slot);
      return {
        ...d,
        monitor: 'bench',
        target: s.target,
        port: s.port,
        hour: new Date(d.hourMs).toISOString(),
        latMinMs: d.latMinMs,
        latMaxMs: d.latMaxMs,
      };
    });
    t0 = mark();
    for (let i = 0; i < deltas.length; i += 5000) await store.monitors.addRollups(deltas.slice(i, i + 5000));
    console.log(`${store.dialect} add rollups           ${since(t0)} (${deltas.length} rows)`);
    t0 = mark();
    const page = await store.monitors.listTargets('bench', {
      state: 'DOWN',
      labels: { region: 'eu' },
      limit: 100,
    });
    console.log(`${store.dialect} page DOWN+label       ${since(t0)} (${page.targets.length} rows)`);
    await store.monitors.deleteMonitorData('bench');
  } finally {
    await store.close();
  }
}
