import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alertRulesSchema } from '../../src/model/alert-rules.js';
import type { MonitorSpec, TargetState } from '../../src/model/monitor-spec.js';
import type { Silence } from '../../src/model/silences.js';
import type { CommittedRound } from '../../src/monitor/monitor-runtime.js';
import type { TargetSnapshot } from '../../src/monitor/target-table.js';
import { type AlertingConfig, ServerAlerts } from '../../src/server/server-alerts.js';
import { openStore, type Store } from '../../src/store/index.js';
import { freshDatabase } from '../store/store-fixtures.js';

const SPEC = {
  name: 'edge',
  labels: { team: 'cdn' },
} as unknown as MonitorSpec;

const RULES = alertRulesSchema.parse([
  { kind: 'target', name: 'TargetDown' },
  { kind: 'cohort', name: 'PopDown', label: 'pop', percent: 50 },
]);

/** 60 targets over 6 pops (10 each); the pops in `down` are DOWN. */
function round(atMs: number, down: readonly string[]): CommittedRound {
  const targets: TargetSnapshot[] = Array.from({ length: 60 }, (_, i) => {
    const pop = `p${Math.floor(i / 10)}`;
    const state: TargetState = down.includes(pop) ? 'DOWN' : 'UP';
    return {
      target: `127.30.0.${i}`,
      port: 80,
      name: null,
      labels: { pop },
      state,
      machine: 0,
      streak: 1,
      sinceMs: atMs - 1000,
      lastAtMs: atMs,
      lastStatus: state === 'UP' ? 'pass' : 'error',
      lastRun: 'r',
    };
  });
  return {
    seq: 1,
    runId: 'r',
    atMs,
    targets: () => targets,
    resultOf: () => ({ status: 'error', durationMs: 1, message: 'refused', data: {} }),
  };
}

const config = (over: Partial<AlertingConfig> = {}): AlertingConfig => ({
  alertRules: new Map([['edge', RULES]]),
  notifiers: [
    {
      type: 'webhook',
      name: 'hook',
      url: 'http://127.0.0.1:9/never',
      secret: '0123456789abcdef',
      matchers: [],
      timeout: 1000,
      repeatInterval: 3_600_000,
    },
  ],
  silences: [],
  ...over,
});

describe('ServerAlerts', () => {
  let store: Store;
  let drop: () => Promise<void>;
  let alerts: ServerAlerts;

  beforeEach(async () => {
    const db = await freshDatabase('sqlite');
    drop = db.drop;
    store = await openStore(db.url);
  });
  afterEach(async () => {
    await alerts?.stop();
    await store.close();
    await drop();
  });

  it('records one cohort alert per broken pop with its members held back, enqueued for the notifier', async () => {
    alerts = new ServerAlerts({ store: store.alerts, config: config() });
    await alerts.onRoundCommitted(SPEC, round(Date.now(), ['p1']));
    const firing = (await store.alerts.listAlerts({ state: 'firing', limit: 100 })).alerts;
    expect(firing).toHaveLength(11);
    const cohort = firing.find((a) => a.rule === 'PopDown')!;
    expect(cohort.labels).toMatchObject({ pop: 'p1', monitor: 'edge', team: 'cdn' });
    expect(firing.filter((a) => a.inhibitedBy === cohort.fingerprint)).toHaveLength(10);
    const outbox = await store.alerts.listOutbox({ pending: true, limit: 100 });
    expect(outbox.map((r) => r.notification.fingerprint)).toEqual([cohort.fingerprint]);
  });

  it("a config silence holds the notification back; a reload without the monitor's rules resolves its alerts", async () => {
    const now = Date.now();
    const silence: Silence = {
      id: 'config-abc',
      monitor: 'edge',
      matchers: [],
      targets: ['127.30.0.0/24'],
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 60_000).toISOString(),
      comment: 'rack swap',
      createdBy: 'config',
      createdAt: new Date(now - 60_000).toISOString(),
    };
    alerts = new ServerAlerts({ store: store.alerts, config: config({ silences: [silence] }) });
    expect(alerts.configSilences).toEqual([silence]);
    await alerts.onRoundCommitted(SPEC, round(now, ['p2']));
    const firing = (await store.alerts.listAlerts({ state: 'firing', limit: 100 })).alerts;
    expect(firing.find((a) => a.rule === 'PopDown')?.silencedBy).toBe('config-abc');
    expect(await store.alerts.listOutbox({ pending: true, limit: 100 })).toEqual([]);

    alerts.setConfig(config({ alertRules: new Map() }));
    await alerts.resolveAll('edge'); // queued after the resolve the reload started: both are done
    expect((await store.alerts.listAlerts({ state: 'firing', limit: 100 })).alerts).toEqual([]);
    expect((await store.alerts.listAlerts({ state: 'resolved', limit: 100 })).alerts).toHaveLength(11);
  });

  it('a restarted ServerAlerts continues the firing alerts (same startsAt), it does not fire them anew', async () => {
    const t0 = Date.now() - 10_000;
    alerts = new ServerAlerts({ store: store.alerts, config: config() });
    await alerts.onRoundCommitted(SPEC, round(t0, ['p0']));
    await alerts.stop();
    const before = (await store.alerts.listAlerts({ state: 'firing', limit: 100 })).alerts;
    alerts = new ServerAlerts({ store: store.alerts, config: config() });
    await alerts.onRoundCommitted(SPEC, round(t0 + 5000, ['p0']));
    const after = (await store.alerts.listAlerts({ limit: 100 })).alerts;
    expect(after.map((a) => [a.fingerprint, a.startsAt]).sort()).toEqual(
      before.map((a) => [a.fingerprint, a.startsAt]).sort(),
    );
  });

  it('/metrics: targets by the configured label, capped with the rest as "other"; delivery counters', async () => {
    alerts = new ServerAlerts({
      store: store.alerts,
      config: config({ alertRules: new Map() }),
      metricsLabel: 'pop',
      metricsLabelCap: 4,
    });
    await alerts.onRoundCommitted(SPEC, round(Date.now(), ['p5']));
    const text = alerts.metricsText(new Set(['edge']));
    const byLabel = text.split('\n').filter((l) => l.startsWith('fleetprobe_monitor_targets_by_label{'));
    expect(byLabel).toHaveLength(5 * 4); // 4 values + other, 4 states each
    expect(text).toContain('fleetprobe_monitor_targets_by_label{monitor="edge",pop="p0",state="UP"} 10');
    // p0..p3 kept (ties by name), p4 and p5 summed.
    expect(text).toContain('fleetprobe_monitor_targets_by_label{monitor="edge",pop="other",state="UP"} 10');
    expect(text).toContain('fleetprobe_monitor_targets_by_label{monitor="edge",pop="other",state="DOWN"} 10');
    expect(text).toContain('fleetprobe_notifications_total{notifier="hook",outcome="sent"} 0');
    expect(alerts.metricsText(new Set())).not.toContain('targets_by_label{');
  });
});
