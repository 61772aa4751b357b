import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertRecorder } from '../../src/alerts/alert-recorder.js';
import { AlertEvaluator } from '../../src/alerts/evaluator.js';
import { AlertmanagerNotifier } from '../../src/alerts/notifiers/alertmanager-notifier.js';
import { OutboxDispatcher } from '../../src/alerts/outbox-dispatcher.js';
import { alertRulesSchema } from '../../src/model/alert-rules.js';
import { openStore, type Store } from '../../src/store/index.js';
import {
  type AlertmanagerProcess,
  alertmanagerInstalled,
  startAlertmanager,
} from '../helpers/alertmanager.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase } from '../store/store-fixtures.js';
import { breakWhere, fleet, popOf, snapshot } from './fixtures.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

if (!alertmanagerInstalled)
  process.stderr.write(
    '\n*** SKIPPING Alertmanager tests: /usr/bin/prometheus-alertmanager is not installed ***\n\n',
  );

const RULES = alertRulesSchema.parse([
  { kind: 'target', name: 'TargetDown', severity: 'warning' },
  {
    kind: 'cohort',
    name: 'PopDown',
    label: 'pop',
    percent: 50,
    severity: 'critical',
    labels: { page: 'yes' },
  },
]);

for (const dialect of DIALECTS) {
  describe.skipIf(!alertmanagerInstalled || !dialect.up)(
    `alerts to a real Alertmanager (${dialect.name})`,
    () => {
      let am: AlertmanagerProcess;
      let store: Store;
      let drop: () => Promise<void>;
      let notifier: AlertmanagerNotifier;
      let recorder: AlertRecorder;
      let evaluator: AlertEvaluator;
      const monitor = `edge-${dialect.name}`;
      const healthy = fleet(100, popOf);
      const ours = async () => (await am.alerts()).filter((a) => a.labels.monitor === monitor);

      beforeAll(async () => {
        am = await startAlertmanager();
        const db = await freshDatabase(dialect.name);
        drop = db.drop;
        store = await openStore(db.url);
        notifier = new AlertmanagerNotifier({
          name: 'am',
          url: am.url,
          repeatIntervalMs: 60_000,
          timeoutMs: 5000,
          matchers: [],
        });
        recorder = new AlertRecorder({ store: store.alerts, notifiers: [notifier] });
        evaluator = new AlertEvaluator(monitor, RULES);
      }, 30_000);
      afterAll(async () => {
        await notifier?.close();
        await store?.close();
        await drop?.();
        await am?.stop();
      });

      it('a broken cohort gives exactly one alert in Alertmanager, none per target; repairing it resolves it', async () => {
        const dispatcher = new OutboxDispatcher({
          store: store.alerts,
          notifiers: [notifier],
          owner: 'live',
        });
        const t0 = Date.now() - 120_000;
        const quiet = evaluator.evaluate(snapshot(healthy, t0, monitor));
        expect(quiet.firing).toHaveLength(0);

        const broken = breakWhere(healthy, (t) => t.labels.pop === 'waw', t0);
        const ev = evaluator.evaluate(snapshot(broken, t0 + 30_000, monitor));
        expect(ev.firing).toHaveLength(51); // the cohort alert + 50 target alerts it holds back
        const cohort = ev.firing.find((a) => a.kind === 'cohort')!;
        expect(
          ev.firing.filter((a) => a.kind === 'target').every((a) => a.inhibitedBy === cohort.fingerprint),
        ).toBe(true);

        const recorded = await recorder.record(ev, t0 + 30_000, []);
        expect(recorded).toEqual({ enqueued: 1, silenced: 0, inhibited: 50 });
        expect(await dispatcher.deliverDue()).toMatchObject({ claimed: 1, delivered: 1 });

        const inAm = await ours();
        expect(inAm).toHaveLength(1);
        expect(inAm[0]!.labels).toEqual({
          alertname: 'PopDown',
          monitor,
          page: 'yes',
          pop: 'waw',
          severity: 'critical',
          team: 'cdn',
        });
        expect(inAm[0]!.annotations).toMatchObject({
          ranges: '127.20.0.[0-49]',
          down: '50',
          total: '50',
          fleetprobe_fingerprint: cohort.fingerprint,
        });
        expect(inAm[0]!.status.state).toBe('active');
        expect(inAm.some((a) => 'target' in a.labels)).toBe(false);
        // History keeps all 51, the held-back ones marked.
        const history = await store.alerts.listAlerts({ state: 'firing', monitor, limit: 100 });
        expect(history.alerts).toHaveLength(51);
        expect(history.alerts.filter((a) => a.inhibitedBy === cohort.fingerprint)).toHaveLength(50);

        // Repair: every alert resolves, and Alertmanager no longer lists it.
        const fixed = evaluator.evaluate(snapshot(healthy, t0 + 90_000, monitor));
        expect(fixed.firing).toHaveLength(0);
        expect(fixed.resolved).toHaveLength(51);
        expect((await recorder.record(fixed, t0 + 90_000, [])).enqueued).toBe(1); // only the one Alertmanager saw
        expect(await dispatcher.deliverDue()).toMatchObject({ claimed: 1, delivered: 1 });
        expect(await ours()).toEqual([]);
        expect((await store.alerts.listAlerts({ state: 'firing', monitor, limit: 100 })).alerts).toHaveLength(
          0,
        );
      });

      it('a notification claimed by a process that died mid-delivery still arrives, once by its fingerprint', async () => {
        const t0 = Date.now() - 120_000;
        const broken = breakWhere(healthy, (t) => t.labels.pop === 'fra', t0);
        const ev = evaluator.evaluate(snapshot(broken, t0, monitor));
        expect((await recorder.record(ev, t0, [])).enqueued).toBe(1);
        const fp = ev.firing.find((a) => a.kind === 'cohort')!.fingerprint;

        // The dead process claimed the row 60 s ago with a 30 s lease, sent it, and died before marking it.
        const [claimed] = await store.alerts.claimOutbox({
          owner: 'dead',
          limit: 10,
          leaseMs: 30_000,
          nowMs: t0 + 30_000,
        });
        expect(claimed?.notification.fingerprint).toBe(fp);
        await notifier.send(claimed!.notification, {
          signal: AbortSignal.timeout(5000),
          deliveryId: claimed!.dedupKey,
        });

        // A fresh dispatcher (the restarted server) takes the row over once the lease expired, and sends it again.
        const fresh = new OutboxDispatcher({
          store: store.alerts,
          notifiers: [notifier],
          owner: 'restarted',
        });
        expect(await fresh.deliverDue()).toMatchObject({ claimed: 1, delivered: 1 });
        expect(await fresh.deliverDue()).toMatchObject({ claimed: 0 });
        const [row] = await store.alerts.listOutbox({ notifier: 'am', limit: 1 });
        expect(row).toMatchObject({ outcome: 'delivered', attempts: 2 });

        const inAm = (await ours()).filter((a) => a.annotations.fleetprobe_fingerprint === fp);
        expect(inAm).toHaveLength(1);
        expect(inAm[0]!.labels.pop).toBe('fra');
        expect(await ours()).toHaveLength(1);
      });

      it('a claim that died before sending is sent by the next dispatcher', async () => {
        const t0 = Date.now() - 120_000;
        const down = breakWhere(healthy, (t) => t.labels.pop === 'fra' || t.labels.pop === 'waw', t0);
        const ev = evaluator.evaluate(snapshot(down, t0, monitor));
        const waw = ev.firing.find((a) => a.kind === 'cohort' && a.labels.pop === 'waw')!;
        // waw is new; fra still firing within its repeat interval: already delivered, nothing to send.
        expect((await recorder.record(ev, t0, [])).enqueued).toBe(1);
        const claimed = await store.alerts.claimOutbox({
          owner: 'dead',
          limit: 10,
          leaseMs: 30_000,
          nowMs: t0 + 30_000,
        });
        expect(claimed.map((r) => r.notification.fingerprint)).toEqual([waw.fingerprint]);
        const fresh = new OutboxDispatcher({
          store: store.alerts,
          notifiers: [notifier],
          owner: 'restarted',
        });
        expect(await fresh.deliverDue()).toMatchObject({ claimed: 1, delivered: 1 });
        const inAm = await ours();
        expect(inAm.map((a) => a.labels.pop).sort()).toEqual(['fra', 'waw']);
        expect(inAm.filter((a) => a.annotations.fleetprobe_fingerprint === waw.fingerprint)).toHaveLength(1);
      });
    },
  );
}
