import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Result, Status } from '../../src/engine/result.js';
import type { MonitorSpec } from '../../src/model/monitor-spec.js';
import { MonitorManager } from '../../src/monitor/monitor-manager.js';
import type { RoundEndState, RoundRequest, RunRoundPort } from '../../src/monitor/round-port.js';
import type { Inventory } from '../../src/monitor/types.js';
import { openStore, type Store } from '../../src/store/index.js';
import type { Target } from '../../src/targets/target.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase, newRun } from '../store/store-fixtures.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

const T0 = Date.UTC(2026, 0, 1, 10);
const INTERVAL_MS = 60_000;
const ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];

function spec(over: Partial<MonitorSpec> = {}): MonitorSpec {
  return {
    name: 'web',
    check: 'tcp',
    args: { port: 80 },
    inventory: { targets: ADDRESSES },
    intervalMs: INTERVAL_MS,
    // The whole interval is the timeout: spreadMs = 0, so a round needs no fake time to pass (see the note below).
    timeoutMs: INTERVAL_MS,
    labels: {},
    downAfter: 2,
    upAfter: 1,
    paused: false,
    source: 'config',
    ...over,
  };
}

const inventoryOf = (s: MonitorSpec): Inventory => ({
  name: 'inline',
  async *targets() {
    const list = typeof s.inventory === 'string' ? [] : s.inventory.targets;
    for (const address of list)
      yield { address: String(address), port: 80, labels: { role: 'edge' } } satisfies Target;
  },
});

/** What the fake lifecycle does in a round: each target's status, and how the run ends. */
interface Script {
  statuses: (address: string) => Status;
  end?: RoundEndState;
  /** Wait for the round's signal, then end `cancelled` (a shutdown during the round). */
  hang?: boolean;
}

/**
 * A fake `runRound` that replays scripted results like the real lifecycle: it records the run, stores the
 * results in the real store (two batches), calls `onStored` after each, and ends in the scripted state.
 */
function fakeLifecycle(store: Store, scripts: Script[]) {
  const rounds: RoundRequest[] = [];
  let hanging!: () => void;
  const hangs = new Promise<void>((resolve) => {
    hanging = resolve;
  });
  const port: RunRoundPort = async (round, onStored) => {
    rounds.push(round);
    const script = scripts.shift() ?? { statuses: () => 'pass' };
    await store.createRun(newRun({ id: round.runId, state: 'running' }));
    const results: Result[] = [];
    for await (const t of round.targets) {
      const status = script.statuses(t.address!);
      results.push({
        run: round.runId,
        target: t.address!,
        port: t.port ?? null,
        name: null,
        labels: { ...t.labels },
        check: 'tcp',
        status,
        durationMs: status === 'pass' ? 4 : 1000,
        startedAt: new Date().toISOString(),
        attempts: 1,
        message: status === 'pass' ? 'connected' : `${status}: round ${round.seq}`,
        data: {},
      });
    }
    for (const batch of [results.slice(0, 2), results.slice(2)]) {
      await store.insertResults(batch);
      onStored(batch);
    }
    if (script.hang) {
      hanging();
      await new Promise<void>((resolve) => round.signal.addEventListener('abort', () => resolve()));
      return { state: 'cancelled' };
    }
    return { state: script.end ?? 'done' };
  };
  return { port, rounds, hangs };
}

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.up)(`MonitorManager (${dialect.name}, fake time)`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    /** Resolves when the runtime has finished its next round (its last store call is the results retention). */
    let roundEnded: () => Promise<void>;

    beforeAll(async () => {
      const db = await freshDatabase(dialect.name);
      drop = db.drop;
      store = await openStore(db.url);
      const prune = store.monitors.pruneRoundResults.bind(store.monitors);
      let waiters: (() => void)[] = [];
      store.monitors.pruneRoundResults = async (m, k) => {
        const n = await prune(m, k);
        const w = waiters;
        waiters = [];
        for (const resolve of w) resolve();
        return n;
      };
      roundEnded = () => new Promise<void>((resolve) => waiters.push(resolve));
    });
    afterAll(async () => {
      await store?.close();
      await drop?.();
    });
    beforeEach(() => {
      // Store I/O is real (PostgreSQL answers on the real loop): rounds are awaited through `roundEnded`, and
      // fake time only moves between rounds, so a round never overlaps the next tick.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      vi.setSystemTime(T0);
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    /** Moves fake time to the next round's due time and waits for that round to end. */
    async function nextRound(delayMs = INTERVAL_MS) {
      const ended = roundEnded();
      await vi.advanceTimersByTimeAsync(delayMs);
      await ended;
    }

    it('damps, records transitions with their cause, ignores an interrupted round, keeps K rounds of results, and resumes after a restart', async () => {
      const down1 = (bad: Status) => (a: string) => (a === '127.0.0.1' ? bad : 'pass');
      const scripts: Script[] = [
        { statuses: () => 'pass' }, // 1: everyone UNKNOWN -> UP
        { statuses: down1('timeout') }, // 2: .1 first failure: still UP (downAfter 2)
        { statuses: down1('error') }, // 3: .1 second failure -> DOWN
        { statuses: () => 'pass', end: 'interrupted' }, // 4: would bring .1 back, but never counts
        { statuses: () => 'pass' }, // 5: .1 -> UP
      ];
      const life = fakeLifecycle(store, scripts);
      const seen: string[] = [];
      const manager = new MonitorManager({
        store: store.monitors,
        runRound: life.port,
        inventoryOf,
        keepRounds: 2,
        onTransitions: (m, ts) => seen.push(...ts.map((t) => `${m} ${t.target} ${t.from}->${t.to}`)),
      });
      const first = roundEnded();
      await manager.start([spec()]);
      await vi.advanceTimersByTimeAsync(0);
      await first;
      expect(manager.status('web')).toMatchObject({ rounds: 1, states: { UP: 4 } });
      expect(seen).toHaveLength(4);

      await nextRound();
      expect(manager.status('web')?.states).toEqual({ UP: 4, DOWN: 0, UNKNOWN: 0, FLAPPING: 0 });
      await nextRound();
      expect(manager.status('web')?.states).toMatchObject({ UP: 3, DOWN: 1 });
      await nextRound();
      expect(manager.status('web')?.lastRound).toMatchObject({ seq: 4, state: 'interrupted' });
      expect(manager.status('web')?.states).toMatchObject({ UP: 3, DOWN: 1 }); // round 4 never counted

      const down = await store.monitors.listTargets('web', { state: 'DOWN', limit: 10 });
      expect(down.targets.map((t) => [t.target, t.lastStatus, t.lastRun])).toEqual([
        ['127.0.0.1', 'error', life.rounds[2]!.runId],
      ]);
      await nextRound();
      expect(seen.slice(4)).toEqual(['web 127.0.0.1 UP->DOWN', 'web 127.0.0.1 DOWN->UP']);

      const { transitions } = await store.monitors.listTransitions('web', {
        since: new Date(T0 + 1),
        limit: 10,
      });
      expect(transitions.map((t) => [t.from, t.to, t.run, t.status, t.message])).toEqual([
        ['UP', 'DOWN', life.rounds[2]!.runId, 'error', 'error: round 3'],
        ['DOWN', 'UP', life.rounds[4]!.runId, 'pass', 'connected'],
      ]);
      expect(transitions[0]!.at).toBe(new Date(T0 + 2 * INTERVAL_MS).toISOString());

      // Raw results: only the last 2 rounds keep theirs.
      const kept = await Promise.all(life.rounds.map(async (r) => (await store.countResults(r.runId)).pass));
      expect(kept.map((n) => n > 0)).toEqual([false, false, false, true, true]);

      await manager.stop(); // flushes rollups
      const hist = await store.monitors.targetHistory('web', '127.0.0.1', { port: 80, now: new Date() });
      // Counted rounds 1, 2, 3, 5 (the interrupted round 4 is not in the rollups): 2 passes of 4.
      expect(hist.uptime.h24).toBe(0.5);
      expect(hist.latency).toEqual([
        expect.objectContaining({ pass: 2, timeout: 1, error: 1, latMinMs: 4, latMaxMs: 4 }),
      ]);
      expect(hist.transitions.map((t) => t.to)).toEqual(['UP', 'DOWN', 'UP']);

      // Restart: a new manager loads states and the round counter; the next round is due one interval after the last.
      const life2 = fakeLifecycle(store, [{ statuses: down1('fail') }, { statuses: down1('fail') }]);
      const again = new MonitorManager({
        store: store.monitors,
        runRound: life2.port,
        inventoryOf,
        keepRounds: 2,
      });
      await again.start([spec()]);
      expect(again.status('web')).toMatchObject({
        targets: 4,
        states: { UP: 4 },
        lastRound: { seq: 5, state: 'done' },
        nextDueAt: new Date(T0 + 5 * INTERVAL_MS).toISOString(),
      });
      await nextRound(INTERVAL_MS - (Date.now() - (T0 + 4 * INTERVAL_MS)));
      expect(life2.rounds[0]!.seq).toBe(6);
      expect(again.status('web')?.states).toMatchObject({ UP: 4 }); // one failure: damped
      await nextRound();
      expect(again.status('web')?.states).toMatchObject({ UP: 3, DOWN: 1 });
      await again.stop();
    });

    it('a round cancelled by shutdown never causes a transition; reload keeps states, applies changes, adds and removes monitors', async () => {
      const life = fakeLifecycle(store, [
        { statuses: () => 'pass' },
        { statuses: () => 'fail' },
        { statuses: () => 'fail' },
        { statuses: () => 'fail', hang: true },
      ]);
      const manager = new MonitorManager({ store: store.monitors, runRound: life.port, inventoryOf });
      const s = spec({ name: 'api', inventory: { targets: ADDRESSES.slice(0, 2) } });
      const first = roundEnded();
      await manager.start([s]);
      await vi.advanceTimersByTimeAsync(0);
      await first;
      expect(manager.status('api')?.states).toMatchObject({ UP: 2 });

      // Reload: downAfter 3 and a 2-minute interval. States stay; the next round is 2 minutes after the last.
      await manager.reload([{ ...s, downAfter: 3, intervalMs: 2 * INTERVAL_MS, timeoutMs: 2 * INTERVAL_MS }]);
      expect(manager.status('api')).toMatchObject({
        states: { UP: 2 },
        nextDueAt: new Date(Date.now() + 2 * INTERVAL_MS).toISOString(),
      });
      await nextRound(2 * INTERVAL_MS);
      await nextRound(2 * INTERVAL_MS);
      expect(manager.status('api')?.states).toMatchObject({ UP: 2 }); // two failures < downAfter 3

      // Paused: no round while time passes.
      manager.pause('api');
      await vi.advanceTimersByTimeAsync(10 * INTERVAL_MS);
      expect(manager.status('api')).toMatchObject({ rounds: 3, paused: true, nextDueAt: null });

      // Resume: the third failure would make them DOWN, but the server shuts down during the round.
      const started = life.rounds.length;
      manager.resume('api');
      await vi.advanceTimersByTimeAsync(0);
      await life.hangs; // round 4 stored its failures and waits
      expect(life.rounds).toHaveLength(started + 1);
      expect(manager.status('api')?.running).toBe(true);
      const ended = roundEnded();
      const stopping = manager.stop();
      await ended;
      await stopping;
      expect(await store.monitors.lastRound('api')).toMatchObject({ seq: 4, state: 'cancelled' });
      const states = await store.monitors.listTargets('api', { limit: 10 });
      expect(states.targets.map((t) => [t.state, t.streak, t.lastRun])).toEqual([
        ['UP', 2, life.rounds[2]!.runId],
        ['UP', 2, life.rounds[2]!.runId],
      ]);
      const { transitions } = await store.monitors.listTransitions('api', { limit: 10 });
      expect(transitions.map((t) => t.to)).toEqual(['UP', 'UP']);

      // Add and remove: 'api' goes away (its history stays), 'dns' comes.
      const life3 = fakeLifecycle(store, []);
      const m2 = new MonitorManager({ store: store.monitors, runRound: life3.port, inventoryOf });
      const firstApi = roundEnded();
      await m2.start([s]);
      // The cancelled round started now: the first round of the new process is due one interval later.
      expect(m2.status('api')?.nextDueAt).toBe(new Date(Date.now() + INTERVAL_MS).toISOString());
      await vi.advanceTimersByTimeAsync(INTERVAL_MS);
      await firstApi;
      const dnsFirst = roundEnded();
      await m2.reload([spec({ name: 'dns', inventory: { targets: ['127.0.0.9'] } })]);
      await vi.advanceTimersByTimeAsync(0);
      await dnsFirst;
      expect(m2.status().map((x) => x.name)).toEqual(['dns']);
      expect(life3.rounds.map((r) => r.monitor.name)).toEqual(['api', 'dns']);
      expect((await store.monitors.listTargets('api', { limit: 10 })).targets).toHaveLength(2);
      await m2.stop();
    });

    it('marks a round left running by a process that died interrupted, and keeps the pace from its start', async () => {
      await store.monitors.saveRound({
        monitor: 'crashy',
        seq: 7,
        runId: 'dead-run',
        state: 'running',
        startedAt: new Date(T0 - 10_000).toISOString(),
        finishedAt: null,
        skipped: 0,
      });
      const life = fakeLifecycle(store, []);
      const manager = new MonitorManager({ store: store.monitors, runRound: life.port, inventoryOf });
      await manager.start([spec({ name: 'crashy' })]);
      expect(manager.status('crashy')).toMatchObject({
        lastRound: { seq: 7, state: 'interrupted' },
        nextDueAt: new Date(T0 + INTERVAL_MS - 10_000).toISOString(),
      });
      expect(await store.monitors.lastRound('crashy')).toMatchObject({
        state: 'interrupted',
        finishedAt: expect.any(String),
      });
      await nextRound(INTERVAL_MS - 10_000);
      expect(life.rounds.map((r) => r.seq)).toEqual([8]);
      await manager.stop();
    });
  });
}
