/**
 * The monitor process of bench/monitor.ts (not a bench by itself): the real MonitorManager, each round a
 * StoredRun on a LocalExecutor into the store at `db`, over the simulator's hosts. Argument: one JSON
 * object (`MonitorProcessConfig`). Prints JSON lines on stdout: `sample` every `sampleMs`, `summary` at the end.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { validateCheckArgs } from '../../src/checks/validate-args.js';
import { LocalExecutor } from '../../src/engine/executor.js';
import type { Result } from '../../src/engine/result.js';
import type { MonitorSpec } from '../../src/model/monitor-spec.js';
import { createInventory } from '../../src/monitor/inventories/index.js';
import { MonitorManager } from '../../src/monitor/monitor-manager.js';
import type { RunRoundPort } from '../../src/monitor/round-port.js';
import { storedRoundPort } from '../../src/monitor/stored-round.js';
import type { Inventory } from '../../src/monitor/types.js';
import { openStore } from '../../src/store/index.js';
import { systemResolve } from '../../src/targets/system-resolver.js';
import { type ProfileSummary, profileCpu } from './cpu-profile.js';
import { type LatenessSummary, RoundLateness } from './round-lateness.js';

export interface MonitorProcessConfig {
  readonly db: string;
  readonly hosts: number;
  readonly base: string;
  /** JSONL targets file of the simulator's hosts (`base + i` on line i). */
  readonly targetsFile: string;
  readonly durationMs: number;
  readonly keepRounds: number;
  readonly sampleMs: number;
  /** Start a CPU profile this many ms after the start (undefined: none), for `profileMs`. */
  readonly profileAtMs?: number;
  readonly profileMs: number;
  readonly monitors: readonly {
    readonly name: string;
    readonly check: 'tcp' | 'http';
    readonly args: Record<string, unknown>;
    readonly intervalMs: number;
    readonly timeoutMs: number;
    readonly concurrency: number;
  }[];
}

/** One line every `sampleMs`. CPU and counts are over the sample's period. */
export interface MonitorSample {
  readonly type: 'sample';
  readonly atMs: number;
  readonly results: number;
  readonly cpuMs: number;
  readonly rssMb: number;
  readonly heapMb: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  /** Per monitor: rounds started, skipped, ended `done`, and the last round's state. */
  readonly rounds: Record<string, { started: number; skipped: number; done: number; last: string }>;
}

export interface MonitorProcessSummary {
  readonly type: 'summary';
  readonly results: number;
  readonly cpuMs: number;
  readonly wallMs: number;
  readonly maxRssMb: number;
  readonly loopP50Ms: number;
  readonly loopP99Ms: number;
  readonly loopMaxMs: number;
  readonly lateness: Record<string, LatenessSummary>;
  readonly rounds: Record<string, { started: number; skipped: number; done: number; failed: number }>;
  readonly profile?: ProfileSummary;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as MonitorProcessConfig;
const out = (o: MonitorSample | MonitorProcessSummary | { type: 'ready' }) =>
  process.stdout.write(`${JSON.stringify(o)}\n`);

/** The simulator's targets file (`fleetprobe sim --targets`), re-read and re-validated every round like any inventory. */
const fleet = createInventory(
  { kind: 'targets', name: 'fleet', targets: [], files: [cfg.targetsFile], labels: { fleet: 'sim' } },
  { resolverFor: () => systemResolve },
);
const inventoryOf = (_spec: MonitorSpec): Inventory => fleet;

const store = await openStore(cfg.db);
const checks = createBuiltinRegistry();
/** The server's round port (src/monitor/stored-round.ts): each round a StoredRun on the executor. */
const port = storedRoundPort({
  store,
  executor: new LocalExecutor(),
  prepare: (spec) => {
    const check = checks.get(spec.check);
    return { check, args: validateCheckArgs(check, spec.args) };
  },
  owner: () => null,
});
const lateness = new Map(
  cfg.monitors.map((m) => [m.name, new RoundLateness({ intervalMs: m.intervalMs, base: cfg.base })]),
);
const ended = new Map(cfg.monitors.map((m) => [m.name, { done: 0, failed: 0 }]));
let results = 0;
let manager: MonitorManager | undefined;

/** The real lifecycle, measured around: when each round was due, and when each stored result started. */
const measuredPort: RunRoundPort = async (round, onStored) => {
  const track = lateness.get(round.monitor.name)!;
  // The scheduler moved its grid to the next due time before starting this round: this one was due an interval before.
  const next = manager?.status(round.monitor.name)?.nextDueAt;
  const dueAtMs = next ? Date.parse(next) - round.monitor.intervalMs : Date.now();
  track.roundStarted(round.runId, dueAtMs, round.expectedCount, round.spreadMs);
  const end = await port(round, (batch: readonly Result[]) => {
    results += batch.length;
    track.observe(batch);
    onStored(batch);
  });
  track.roundEnded(round.runId);
  const e = ended.get(round.monitor.name)!;
  if (end.state === 'done') e.done++;
  else if (end.state === 'failed') e.failed++;
  return end;
};

manager = new MonitorManager({
  store: store.monitors,
  runRound: measuredPort,
  inventoryOf,
  keepRounds: cfg.keepRounds,
});
const specs: MonitorSpec[] = cfg.monitors.map((m) => ({
  name: m.name,
  check: m.check,
  args: m.args,
  inventory: 'fleet',
  intervalMs: m.intervalMs,
  timeoutMs: m.timeoutMs,
  concurrency: m.concurrency,
  labels: {},
  downAfter: 2,
  upAfter: 1,
  paused: false,
  source: 'config',
}));

const loopAll = monitorEventLoopDelay({ resolution: 10 });
const loopSample = monitorEventLoopDelay({ resolution: 10 });
loopAll.enable();
loopSample.enable();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const stopAtMs = Date.now() + cfg.durationMs;
// A check due later than this could still be on time but in flight (hence `cancelled`) when the bench stops.
for (const m of cfg.monitors) {
  lateness.get(m.name)!.setWindowEnd(stopAtMs - 0.1 * m.intervalMs - m.timeoutMs - 2000);
}
await manager.start(specs);
out({ type: 'ready' });

let profile: ProfileSummary | undefined;
const profiling =
  cfg.profileAtMs === undefined
    ? undefined
    : sleep(cfg.profileAtMs).then(async () => {
        profile = await profileCpu(cfg.profileMs);
      });

let lastCpu = process.cpuUsage();
let lastResults = 0;
while (Date.now() < stopAtMs) {
  await sleep(Math.min(cfg.sampleMs, Math.max(0, stopAtMs - Date.now())));
  const c = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  const mem = process.memoryUsage();
  const rounds: MonitorSample['rounds'] = {};
  for (const s of manager.status()) {
    rounds[s.name] = {
      started: s.rounds,
      skipped: s.skipped,
      done: ended.get(s.name)!.done,
      last: s.lastRound?.state ?? '-',
    };
  }
  out({
    type: 'sample',
    atMs: Math.round(performance.now() - t0),
    results: results - lastResults,
    cpuMs: Math.round((c.user + c.system) / 1000),
    rssMb: Math.round(mem.rss / 2 ** 20),
    heapMb: Math.round(mem.heapUsed / 2 ** 20),
    loopP99Ms: loopSample.percentile(99) / 1e6,
    loopMaxMs: loopSample.max / 1e6,
    rounds,
  });
  loopSample.reset();
  lastResults = results;
}

await profiling;
const status = manager.status();
await manager.stop();
await store.close();
const cpu = process.cpuUsage(cpu0);
out({
  type: 'summary',
  results,
  cpuMs: Math.round((cpu.user + cpu.system) / 1000),
  wallMs: Math.round(performance.now() - t0),
  maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  loopP50Ms: loopAll.percentile(50) / 1e6,
  loopP99Ms: loopAll.percentile(99) / 1e6,
  loopMaxMs: loopAll.max / 1e6,
  lateness: Object.fromEntries([...lateness].map(([name, l]) => [name, l.summary()])),
  rounds: Object.fromEntries(
    status.map((s) => [s.name, { started: s.rounds, skipped: s.skipped, ...ended.get(s.name)! }]),
  ),
  profile,
});
process.exit(0);
