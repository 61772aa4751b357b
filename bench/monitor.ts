/**
 * bench/monitor.ts: monitors over a simulated fleet, for minutes, on SQLite and on PostgreSQL (issue 9).
 *
 *   npx tsx bench/monitor.ts [--hosts 250000] [--minutes 15] [--db sqlite|postgres|both]
 *     [--tcp-interval 60s] [--http-interval 5m] [--keep-rounds 1] [--tcp-concurrency 1024]
 *     [--http-concurrency 512] [--profile healthy|mixed] [--cpu-profile] [--pg <url>] [--quick]
 *
 * Two monitors over the same --hosts simulated hosts: `tcp` every --tcp-interval and `http` every
 * --http-interval, in one monitor process (bench/lib/monitor-process.ts: the real MonitorManager, each round a
 * StoredRun on a LocalExecutor writing into the store), with `fleetprobe sim` in another process on the same
 * machine. One monitor process per store dialect, one after the other, each starting from an empty store
 * (a fresh SQLite file; a fresh PostgreSQL schema, dropped afterwards).
 *
 * Reported per dialect:
 * - schedule: of the target checks due (every target of every round on the scheduler's grid, each paced to
 *   its own start within the round, skipped rounds included), the share that started no later than 10% of the
 *   interval after it was due; lateness p50/p99/max;
 * - the monitor process's peak RSS (kernel high-water mark), CPU of both processes (% of one core), CPU per
 *   result, event-loop delay;
 * - the store's size on disk (SQLite: db + WAL files; PostgreSQL: pg_total_relation_size of the schema's
 *   tables) sampled through the run, and its growth per hour once results retention (`--keep-rounds`)
 *   applies to every monitor, plus the per-table split at the end;
 * - with --cpu-profile: where the monitor process's CPU goes (a 60 s inspector profile mid-run).
 * Only loopback addresses are used (127.64.0.0 + i).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { SimReadyInfo } from '../src/sim/cli.js';
import {
  benchArgs,
  benchUsageError,
  formatCount,
  formatFixed,
  formatMachineInfo,
  formatTable,
  type MachineInfo,
  machineInfo,
  PG_FLAGS,
  processCpuSeconds,
  ROOT,
} from './lib/index.js';
import type { MonitorProcessConfig, MonitorProcessSummary, MonitorSample } from './lib/monitor-process.js';

const MB = 2 ** 20;
const BASE = '127.64.0.0';
const PROC_SAMPLE_MS = 5000;
const STORE_SAMPLE_MS = 30_000;
/** How often the bench VACUUMs a PostgreSQL schema when the server's autovacuum is off (autovacuum_naptime's default). */
const VACUUM_EVERY_MS = 60_000;
const DIALECTS = ['sqlite', 'postgres'] as const;
type Dialect = (typeof DIALECTS)[number];

function usage(message: string): never {
  return benchUsageError(import.meta.url, message);
}

function parseFlags() {
  const v = benchArgs(import.meta.url, {
    hosts: { type: 'string' },
    minutes: { type: 'string' },
    db: { type: 'string', default: 'both' },
    'tcp-interval': { type: 'string', default: '60s' },
    'http-interval': { type: 'string', default: '5m' },
    'keep-rounds': { type: 'string', default: '1' },
    'tcp-concurrency': { type: 'string', default: '1024' },
    'http-concurrency': { type: 'string', default: '512' },
    profile: { type: 'string', default: 'healthy' },
    'cpu-profile': { type: 'boolean', default: false },
    pg: PG_FLAGS.pg,
    quick: { type: 'boolean', default: false },
  });
  const int = (value: string, flag: string, min: number) => {
    if (!/^\d+$/.test(value) || Number(value) < min)
      usage(`--${flag}: "${value}" is not a whole number >= ${min}`);
    return Number(value);
  };
  const duration = (value: string, flag: string) => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
    const ms = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's']! : Number.NaN;
    if (!(ms >= 1000)) usage(`--${flag}: "${value}" is not a duration of at least 1s (e.g. 30s, 5m)`);
    return ms;
  };
  const dbs: readonly Dialect[] =
    v.db === 'both'
      ? DIALECTS
      : DIALECTS.includes(v.db as Dialect)
        ? [v.db as Dialect]
        : usage(`--db: "${v.db}" is not sqlite, postgres or both`);
  if (v.profile !== 'healthy' && v.profile !== 'mixed')
    usage(`--profile: "${v.profile}" is not healthy or mixed`);
  const minutes = Number(v.minutes ?? (v.quick ? '2' : '15'));
  if (!(minutes > 0)) usage(`--minutes: "${v.minutes}" is not a positive number`);
  return {
    hosts: int(v.hosts ?? (v.quick ? '5000' : '250000'), 'hosts', 1),
    durationMs: minutes * 60_000,
    dbs,
    tcpIntervalMs: duration(v['tcp-interval'], 'tcp-interval'),
    httpIntervalMs: duration(v['http-interval'], 'http-interval'),
    keepRounds: int(v['keep-rounds'], 'keep-rounds', 1),
    tcpConcurrency: int(v['tcp-concurrency'], 'tcp-concurrency', 1),
    httpConcurrency: int(v['http-concurrency'], 'http-concurrency', 1),
    profile: v.profile,
    cpuProfile: v['cpu-profile'],
    pgUrl: v.pg,
  };
}

const flags = parseFlags();
if (flags.hosts > 4_000_000)
  usage(`--hosts: at most 4,000,000 (${BASE} + hosts must stay inside 127.0.0.0/8)`);

// --- processes ------------------------------------------------------------------------------------------

/** `node --import tsx <file> ...args` from the repo root: the pid is the program's own (tsx's CLI would fork). */
function spawnTs(file: string, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

interface ProcStat {
  /** CPU time of the process (all threads), user + system, ms. */
  readonly cpuMs: number;
  readonly rssMb: number;
  /** Peak RSS so far (the kernel's high-water mark), MB. */
  readonly hwmMb: number;
  /** Time the main thread was runnable but waiting for a core, ms (/proc/<pid>/schedstat). */
  readonly runQueueMs: number;
}

/** CPU, memory and run-queue wait of a process, from /proc; undefined once it has gone. */
function procStat(pid: number): ProcStat | undefined {
  try {
    const cpuS = processCpuSeconds(pid);
    if (Number.isNaN(cpuS)) return undefined;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0);
    const sched = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ');
    return {
      cpuMs: cpuS * 1000,
      rssMb: kb('VmRSS') / 1024,
      hwmMb: kb('VmHWM') / 1024,
      runQueueMs: Number(sched[1]) / 1e6,
    };
  } catch {
    return undefined;
  }
}

async function startSim(targetsFile: string): Promise<{ child: ChildProcess; info: SimReadyInfo }> {
  const child = spawnTs('src/cli/main.ts', [
    'sim',
    '--targets',
    targetsFile,
    '--hosts',
    String(flags.hosts),
    '--base',
    BASE,
    '--profile',
    flags.profile,
    '--protocols',
    'tcp,http',
    '--tcp-port',
    '0',
    '--http-port',
    '0',
    '--json',
  ]);
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<SimReadyInfo>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`fleetprobe sim exited with ${code} before it was ready`)));
    lines.once('line', (line) => resolve(JSON.parse(line) as SimReadyInfo));
  });
  return { child, info };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

// --- stores ---------------------------------------------------------------------------------------------

interface BenchStore {
  readonly dialect: Dialect;
  readonly url: string;
  /** Bytes on disk now. */
  size(): Promise<number>;
  /** PostgreSQL backends serving the monitor process (their CPU is the store's share); none for SQLite. */
  serverPids(): Promise<number[]>;
  /**
   * PostgreSQL with `autovacuum = off` (this project's test server): VACUUMs the schema's tables, standing in
   * for autovacuum so deleted result rows are reused, as on a production server. False when not needed.
   */
  vacuumIfNoAutovacuum(): Promise<boolean>;
  /** Bytes and rows per table (after the monitor process has exited). */
  tables(): Promise<{ table: string; bytes: number; rows: number }[]>;
  drop(): Promise<void>;
}

function sqliteStore(): BenchStore {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-bench-monitor-'));
  const file = path.join(dir, 'monitor.db');
  const fileSize = (f: string) => {
    try {
      return statSync(f).size;
    } catch {
      return 0;
    }
  };
  return {
    dialect: 'sqlite',
    url: file,
    size: async () => fileSize(file) + fileSize(`${file}-wal`) + fileSize(`${file}-shm`),
    serverPids: async () => [],
    vacuumIfNoAutovacuum: async () => false,
    async tables() {
      const db = new Database(file, { readonly: true });
      try {
        const rows = db
          .prepare(
            `SELECT s.tbl_name AS tbl, SUM(d.pgsize) AS bytes FROM dbstat d JOIN sqlite_schema s ON s.name = d.name
             GROUP BY s.tbl_name ORDER BY bytes DESC`,
          )
          .all() as { tbl: string; bytes: number }[];
        return rows.map((r) => ({
          table: r.tbl,
          bytes: r.bytes,
          rows: (db.prepare(`SELECT COUNT(*) AS n FROM "${r.tbl}"`).get() as { n: number }).n,
        }));
      } finally {
        db.close();
      }
    },
    drop: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresStore(url: string): Promise<BenchStore> {
  const schema = `fp_bench_monitor_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const tablesOf = async () =>
    (
      await admin.query<{ t: string }>('SELECT tablename AS t FROM pg_tables WHERE schemaname = $1', [schema])
    ).rows.map((r) => r.t);
  return {
    dialect: 'postgres',
    url: `${url}${url.includes('?') ? '&' : '?'}application_name=${schema}&options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    async vacuumIfNoAutovacuum() {
      const r = await admin.query<{ autovacuum: string }>('SHOW autovacuum');
      if (r.rows[0]?.autovacuum === 'on') return false;
      for (const t of await tablesOf()) await admin.query(`VACUUM ${schema}."${t}"`);
      return true;
    },
    async serverPids() {
      const r = await admin.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
        [schema],
      );
      return r.rows.map((row) => row.pid);
    },
    async size() {
      const r = await admin.query<{ b: string }>(
        `SELECT COALESCE(SUM(pg_total_relation_size(format('%I.%I', schemaname, tablename)::regclass)), 0) AS b
         FROM pg_tables WHERE schemaname = $1`,
        [schema],
      );
      return Number(r.rows[0]?.b ?? 0);
    },
    async tables() {
      const out = [];
      for (const t of await tablesOf()) {
        const r = await admin.query<{ b: string; n: string }>(
          `SELECT pg_total_relation_size(format('%I.%I', $1::text, $2::text)::regclass) AS b,
                  (SELECT COUNT(*) FROM ${schema}."${t}") AS n`,
          [schema, t],
        );
        out.push({ table: t, bytes: Number(r.rows[0]?.b ?? 0), rows: Number(r.rows[0]?.n ?? 0) });
      }
      return out.sort((a, b) => b.bytes - a.bytes);
    },
    async drop() {
      await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      await admin.end();
    },
  };
}

// --- one dialect --------------------------------------------------------------------------------------------

interface PhaseResult {
  readonly dialect: Dialect;
  readonly summary: MonitorProcessSummary;
  readonly peakRssMb: number;
  readonly monitorCpuPct: number;
  readonly simCpuPct: number;
  /** Share of the wall time the main thread was runnable but had no core (the machine's other work). */
  readonly monitorWaitPct: number;
  readonly simWaitPct: number;
  /** CPU of the PostgreSQL backends serving the monitor process, % of one core. */
  readonly pgCpuPct: number | undefined;
  readonly wallMs: number;
  readonly sizes: { atMs: number; bytes: number }[];
  /** When every monitor had ended keepRounds + 1 rounds `done` (retention applies from then), ms after start. */
  readonly retentionAtMs: number | undefined;
  readonly tables: { table: string; bytes: number; rows: number }[];
  /** Bytes on disk once the monitor process has closed the store. */
  readonly closedBytes: number;
  /** VACUUMs the bench ran in place of the server's autovacuum (off). */
  readonly vacuums: number;
  readonly loadStart: number;
  readonly loadEnd: number;
}

async function runPhase(
  dialect: Dialect,
  sim: { child: ChildProcess; info: SimReadyInfo },
  targetsFile: string,
): Promise<PhaseResult> {
  const store = dialect === 'sqlite' ? sqliteStore() : await postgresStore(flags.pgUrl);
  try {
    const checkArgs = sim.info.checkArgs;
    const cfg: MonitorProcessConfig = {
      db: store.url,
      hosts: flags.hosts,
      base: BASE,
      targetsFile,
      durationMs: flags.durationMs,
      keepRounds: flags.keepRounds,
      sampleMs: 10_000,
      profileAtMs: flags.cpuProfile ? Math.max(0, flags.durationMs / 2 - 30_000) : undefined,
      profileMs: Math.min(60_000, flags.durationMs / 2),
      monitors: [
        {
          name: 'fleet-tcp',
          check: 'tcp',
          args: checkArgs.tcp!,
          intervalMs: flags.tcpIntervalMs,
          timeoutMs: Math.min(5000, flags.tcpIntervalMs / 4),
          concurrency: flags.tcpConcurrency,
        },
        {
          name: 'fleet-http',
          check: 'http',
          args: checkArgs.http!,
          intervalMs: flags.httpIntervalMs,
          timeoutMs: Math.min(10_000, flags.httpIntervalMs / 4),
          concurrency: flags.httpConcurrency,
        },
      ],
    };
    const loadStart = os.loadavg()[0] ?? 0;
    const child = spawnTs('bench/lib/monitor-process.ts', [JSON.stringify(cfg)]);
    const pid = child.pid!;
    const t0 = performance.now();
    const sim0 = procStat(sim.child.pid!);
    let peakRssMb = 0;
    let lastMonitor: ProcStat | undefined;
    /** CPU ms per PostgreSQL backend of the monitor process (new processes: their CPU starts at 0). */
    const backendCpuMs = new Map<number, number>();
    const procTimer = setInterval(() => {
      const s = procStat(pid);
      if (s) {
        peakRssMb = Math.max(peakRssMb, s.hwmMb);
        lastMonitor = s;
      }
      store.serverPids().then(
        (pids) => {
          for (const p of pids) {
            const b = procStat(p);
            if (b) backendCpuMs.set(p, b.cpuMs);
          }
        },
        () => {},
      );
    }, PROC_SAMPLE_MS);
    const sizes: { atMs: number; bytes: number }[] = [];
    const sampleSize = () =>
      store.size().then(
        (bytes) => sizes.push({ atMs: performance.now() - t0, bytes }),
        () => {},
      );
    const sizeTimer = setInterval(sampleSize, STORE_SAMPLE_MS);
    let vacuums = 0;
    let vacuuming: Promise<void> | undefined;
    const vacuumTimer = setInterval(() => {
      vacuuming ??= store
        .vacuumIfNoAutovacuum()
        .then(
          (ran) => {
            if (ran) vacuums++;
          },
          () => {},
        )
        .finally(() => {
          vacuuming = undefined;
        });
    }, VACUUM_EVERY_MS);
    let summary: MonitorProcessSummary | undefined;
    let retentionAtMs: number | undefined;
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const msg = JSON.parse(line) as MonitorSample | MonitorProcessSummary | { type: 'ready' };
      if (msg.type === 'summary') summary = msg;
      if (msg.type !== 'sample') return;
      const rounds = Object.values(msg.rounds);
      if (retentionAtMs === undefined && rounds.every((r) => r.done >= flags.keepRounds + 1)) {
        retentionAtMs = msg.atMs;
      }
      const roundText = Object.entries(msg.rounds)
        .map(([n, r]) => `${n} ${r.done}/${r.started} done, ${r.skipped} skipped, last ${r.last}`)
        .join('; ');
      process.stderr.write(
        `[${dialect} ${(msg.atMs / 60_000).toFixed(1)} min] ${formatCount(msg.results / 10)} results/s, cpu ${((msg.cpuMs / 10_000) * 100).toFixed(0)}%, rss ${msg.rssMb} MB, loop p99 ${msg.loopP99Ms.toFixed(0)} ms max ${msg.loopMaxMs.toFixed(0)} ms, store ${((sizes.at(-1)?.bytes ?? 0) / MB).toFixed(0)} MB; ${roundText}\n`,
      );
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearInterval(procTimer);
    clearInterval(sizeTimer);
    clearInterval(vacuumTimer);
    await vacuuming;
    const wallMs = performance.now() - t0;
    const sim1 = procStat(sim.child.pid!);
    const simCpuMs = (sim1?.cpuMs ?? 0) - (sim0?.cpuMs ?? 0);
    const simWaitMs = (sim1?.runQueueMs ?? 0) - (sim0?.runQueueMs ?? 0);
    let backendMs = 0;
    for (const ms of backendCpuMs.values()) backendMs += ms;
    // Not a sample of the running store: SQLite truncates its WAL at close.
    const closedBytes = await store.size();
    if (code !== 0 || !summary) throw new Error(`the monitor process exited with ${code} without a summary`);
    const tables = await store.tables();
    return {
      dialect,
      summary,
      peakRssMb: Math.max(peakRssMb, summary.maxRssMb),
      monitorCpuPct: (Math.max(lastMonitor?.cpuMs ?? 0, summary.cpuMs) / wallMs) * 100,
      monitorWaitPct: ((lastMonitor?.runQueueMs ?? 0) / wallMs) * 100,
      simCpuPct: (simCpuMs / wallMs) * 100,
      simWaitPct: (simWaitMs / wallMs) * 100,
      pgCpuPct: dialect === 'postgres' ? (backendMs / wallMs) * 100 : undefined,
      wallMs,
      sizes,
      retentionAtMs,
      tables,
      closedBytes,
      vacuums,
      loadStart,
      loadEnd: os.loadavg()[0] ?? 0,
    };
  } finally {
    await store.drop();
  }
}

// --- report -----------------------------------------------------------------------------------------------

/** Growth per hour from the retention point (or, if never reached, from the first sample) to the end. */
function growthPerHour(p: PhaseResult): { mbPerHour: number; from: string } {
  const from = p.retentionAtMs ?? 0;
  const after = p.sizes.filter((s) => s.atMs >= from);
  const first = after[0];
  const last = after.at(-1);
  if (!first || !last || last.atMs - first.atMs < 60_000) return { mbPerHour: Number.NaN, from: 'n/a' };
  return {
    mbPerHour: ((last.bytes - first.bytes) / MB / (last.atMs - first.atMs)) * 3_600_000,
    from:
      p.retentionAtMs === undefined ? 'start (retention not reached)' : `${(from / 60_000).toFixed(1)} min`,
  };
}

function report(machine: MachineInfo, phases: readonly PhaseResult[]): void {
  const intervalText = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000} s`);
  console.log(
    `\n# bench/monitor: ${formatCount(flags.hosts)} simulated hosts (profile ${flags.profile}), ${flags.durationMs / 60_000} min per store, results kept for the last ${flags.keepRounds} round(s) of each monitor`,
  );
  console.log(`# ${formatMachineInfo(machine)}`);
  const rows = phases.flatMap((p) =>
    Object.entries(p.summary.lateness).map(([name, l]) => ({ p, name, l, r: p.summary.rounds[name]! })),
  );
  console.log('\nSchedule: checks started within interval + 10% of when they were due');
  console.log(
    formatTable(
      [
        { header: 'store', value: (x) => x.p.dialect },
        { header: 'monitor', value: (x) => `${x.name} every ${intervalText(x.l.intervalMs)}` },
        { header: 'checks due', value: (x) => formatCount(x.l.due), align: 'right' },
        {
          header: 'on time',
          value: (x) => `${formatFixed((x.l.onTime / Math.max(1, x.l.due)) * 100, 3)}%`,
          align: 'right',
        },
        {
          header: 'never started',
          value: (x) => formatCount(Math.max(0, x.l.due - x.l.started)),
          align: 'right',
        },
        { header: 'late p50', value: (x) => `${x.l.p50Ms} ms`, align: 'right' },
        { header: 'late p99', value: (x) => `${x.l.p99Ms} ms`, align: 'right' },
        { header: 'late max', value: (x) => `${formatCount(x.l.maxMs)} ms`, align: 'right' },
        {
          header: 'rounds done/started/skipped',
          value: (x) => `${x.r.done}/${x.r.started}/${x.r.skipped}`,
          align: 'right',
        },
      ],
      rows,
    ),
  );
  console.log('\nResources (CPU in % of one core; 2 cores in all)');
  console.log(
    formatTable(
      [
        { header: 'store', value: (p) => p.dialect },
        { header: 'monitor peak RSS', value: (p) => `${formatCount(p.peakRssMb)} MB`, align: 'right' },
        { header: 'monitor CPU', value: (p) => `${p.monitorCpuPct.toFixed(0)}%`, align: 'right' },
        { header: 'sim CPU', value: (p) => `${p.simCpuPct.toFixed(0)}%`, align: 'right' },
        {
          header: 'PG backends CPU',
          value: (p) => (p.pgCpuPct === undefined ? '-' : `${p.pgCpuPct.toFixed(0)}%`),
          align: 'right',
        },
        {
          header: 'waiting for a core (monitor / sim)',
          value: (p) => `${p.monitorWaitPct.toFixed(0)}% / ${p.simWaitPct.toFixed(0)}%`,
          align: 'right',
        },
        {
          header: 'results/s',
          value: (p) => formatCount(p.summary.results / (p.summary.wallMs / 1000)),
          align: 'right',
        },
        {
          header: 'CPU per result',
          value: (p) => `${formatFixed((p.summary.cpuMs * 1000) / Math.max(1, p.summary.results), 0)} µs`,
          align: 'right',
        },
        {
          header: 'loop delay p99 / max',
          value: (p) => `${p.summary.loopP99Ms.toFixed(0)} / ${formatCount(p.summary.loopMaxMs)} ms`,
          align: 'right',
        },
        {
          header: 'load avg start/end',
          value: (p) => `${p.loadStart.toFixed(1)} / ${p.loadEnd.toFixed(1)}`,
          align: 'right',
        },
      ],
      phases,
    ),
  );
  console.log('\nStore on disk (SQLite: db + WAL files; PostgreSQL: pg_total_relation_size of the schema)');
  console.log(
    formatTable(
      [
        { header: 'store', value: (p) => p.dialect },
        {
          header: 'size at end',
          value: (p) => `${formatFixed((p.sizes.at(-1)?.bytes ?? 0) / MB, 0)} MB`,
          align: 'right',
        },
        { header: 'after close', value: (p) => `${formatFixed(p.closedBytes / MB, 0)} MB`, align: 'right' },
        {
          header: 'max size',
          value: (p) => `${formatFixed(Math.max(...p.sizes.map((s) => s.bytes)) / MB, 0)} MB`,
          align: 'right',
        },
        {
          header: 'growth/h after retention',
          value: (p) => `${formatFixed(growthPerHour(p).mbPerHour, 0)} MB/h`,
          align: 'right',
        },
        { header: 'retention applies from', value: (p) => growthPerHour(p).from },
        {
          header: 'per table at end (MB, rows)',
          value: (p) =>
            p.tables
              .filter((t) => t.bytes >= MB || t.rows > 1000)
              .map((t) => `${t.table} ${formatFixed(t.bytes / MB, 0)} MB ${formatCount(t.rows)}`)
              .join('; '),
        },
      ],
      phases,
    ),
  );
  for (const p of phases) {
    // Rollups grow by one row per target and monitor each hour whatever the retention of raw results; this run
    // measured their bytes per row.
    const r = p.tables.find((t) => t.table === 'monitor_rollups');
    if (r && r.rows > 0) {
      const perHour = (r.bytes / r.rows) * flags.hosts * 2;
      console.log(
        `# ${p.dialect}: hourly rollups ${formatFixed(r.bytes / r.rows, 0)} bytes per row (incl. indexes) x ${formatCount(flags.hosts * 2)} target-monitors = ${formatFixed(perHour / MB, 0)} MB per hour of history; kept 31 days: ${formatFixed((perHour * 24 * 31) / 2 ** 30, 1)} GB at most`,
      );
    }
    if (p.vacuums > 0) {
      console.log(
        `# ${p.dialect}: the server's autovacuum is off; the bench ran VACUUM on the schema's tables every ${VACUUM_EVERY_MS / 1000} s (${p.vacuums} times) in its place`,
      );
    }
    const series = p.sizes
      .map((s) => `${(s.atMs / 60_000).toFixed(1)}:${(s.bytes / MB).toFixed(0)}`)
      .join(' ');
    console.log(`# ${p.dialect} size over time (min:MB): ${series}`);
  }
  for (const p of phases) {
    const prof = p.summary.profile;
    if (!prof) continue;
    console.log(
      `\nWhere the monitor process's CPU goes (${p.dialect}, ${prof.windowMs / 1000} s profile, busy ${prof.busyPct.toFixed(0)}% of the window)`,
    );
    console.log(
      formatTable(
        [
          { header: 'area', value: (e) => e.name },
          { header: 'share of busy', value: (e) => `${e.pct.toFixed(1)}%`, align: 'right' },
        ],
        prof.areas,
      ),
    );
    console.log(
      formatTable(
        [
          { header: 'function (self time)', value: (e) => e.name.replaceAll('|', '/') },
          { header: 'share of busy', value: (e) => `${e.pct.toFixed(1)}%`, align: 'right' },
        ],
        prof.top,
      ),
    );
  }
}

// --- main -----------------------------------------------------------------------------------------------

const machine = machineInfo();
process.stderr.write(`bench/monitor: ${formatMachineInfo(machine)}\n`);
const simDir = mkdtempSync(path.join(os.tmpdir(), 'fp-bench-monitor-sim-'));
const targetsFile = path.join(simDir, 'fleet.jsonl');
const phases: PhaseResult[] = [];
try {
  const sim = await startSim(targetsFile);
  try {
    for (const dialect of flags.dbs) {
      process.stderr.write(
        `bench/monitor: ${dialect}: ${formatCount(flags.hosts)} hosts for ${flags.durationMs / 60_000} min\n`,
      );
      phases.push(await runPhase(dialect, sim, targetsFile));
    }
  } finally {
    await stopChild(sim.child);
  }
} finally {
  rmSync(simDir, { recursive: true, force: true });
}
report(machine, phases);
