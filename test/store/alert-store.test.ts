import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Notification } from '../../src/model/notification.js';
import { silenceInputSchema } from '../../src/model/silences.js';
import type { AlertRecord } from '../../src/store/alert-store.js';
import { CursorError, openStore, type Store } from '../../src/store/index.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase } from './store-fixtures.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

const T0 = Date.parse('2026-11-30T10:00:00.000Z');
let seq = 0;

function notification(over: Partial<Notification> = {}): Notification {
  const fp = over.fingerprint ?? `fp${String(++seq).padStart(14, '0')}`;
  return {
    fingerprint: fp,
    state: 'firing',
    labels: { alertname: 'down', monitor: 'm1', severity: 'critical', target: '127.0.0.1' },
    annotations: { summary: 'down' },
    startsAt: new Date(T0).toISOString(),
    endsAt: null,
    generatorURL: '',
    ...over,
  };
}

function record(n: Notification, over: Partial<AlertRecord> = {}): AlertRecord {
  return {
    fingerprint: n.fingerprint,
    monitor: 'm1',
    rule: 'down',
    kind: 'target',
    labels: n.labels,
    annotations: n.annotations,
    state: n.state,
    startsAt: n.startsAt,
    endsAt: n.endsAt,
    silencedBy: null,
    inhibitedBy: null,
    updatedAt: new Date(T0).toISOString(),
    ...over,
  };
}

const resolvedOf = (n: Notification, atMs: number): Notification => ({
  ...n,
  state: 'resolved',
  endsAt: new Date(atMs).toISOString(),
});

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.up)(`alert store (${dialect.name})`, () => {
    let store: Store;
    let drop: () => Promise<void>;

    beforeAll(async () => {
      const db = await freshDatabase(dialect.name);
      drop = db.drop;
      store = await openStore(db.url);
    });
    afterAll(async () => {
      await store?.close();
      await drop?.();
    });

    it('records alert instances by fingerprint and startsAt, and lists them by state, newest first, with a cursor', async () => {
      const a = notification();
      const b = notification();
      await store.alerts.recordAlerts([record(a), record(b)]);
      const endsAt = new Date(T0 + 60_000).toISOString();
      await store.alerts.recordAlerts([
        record(resolvedOf(a, T0 + 60_000), { annotations: { summary: 'up' } }),
      ]);
      const resolved = await store.alerts.listAlerts({ state: 'resolved', monitor: 'm1', limit: 10 });
      expect(resolved.alerts.map((r) => [r.fingerprint, r.endsAt, r.annotations.summary])).toEqual([
        [a.fingerprint, endsAt, 'up'],
      ]);
      const firing = await store.alerts.listAlerts({ state: 'firing', limit: 1 });
      expect(firing.alerts.map((r) => r.fingerprint)).toEqual([b.fingerprint]);
      expect(firing.nextCursor).toBeNull();
      const all = await store.alerts.listAlerts({ limit: 1 });
      expect(all.nextCursor).not.toBeNull();
      const next = await store.alerts.listAlerts({ limit: 1, cursor: all.nextCursor! });
      expect(next.alerts[0]?.fingerprint).toBe(a.fingerprint);
      await expect(store.alerts.listAlerts({ limit: 1, cursor: 'x' })).rejects.toBeInstanceOf(CursorError);
      // Retention deletes resolved alerts that ended before the cutoff, never firing ones.
      expect(await store.alerts.deleteAlertsOlderThan(new Date(T0 + 60_001))).toEqual({
        alerts: 1,
        outbox: 0,
      });
      expect(
        (await store.alerts.listAlerts({ monitor: 'm1', limit: 10 })).alerts.map((r) => r.fingerprint),
      ).toEqual([b.fingerprint]);
    });

    it('enqueues idempotently and claims with a lease that only expiry releases', async () => {
      const n = notification();
      const row = { notifier: 'am', notification: n, repeat: 0 };
      expect(await store.alerts.enqueue([row], T0)).toBe(1);
      expect(await store.alerts.enqueue([row], T0 + 1000)).toBe(0);

      const first = await store.alerts.claimOutbox({ owner: 'dead', limit: 10, leaseMs: 30_000, nowMs: T0 });
      const mine = first.filter((r) => r.notification.fingerprint === n.fingerprint);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ notifier: 'am', attempts: 1, notification: n });
      // Another process sees nothing while the lease lives...
      const during = await store.alerts.claimOutbox({
        owner: 'other',
        limit: 10,
        leaseMs: 30_000,
        nowMs: T0 + 29_000,
      });
      expect(during.filter((r) => r.notification.fingerprint === n.fingerprint)).toHaveLength(0);
      // ...and takes the row over once it expired (the first owner died mid-delivery).
      const after = await store.alerts.claimOutbox({
        owner: 'fresh',
        limit: 10,
        leaseMs: 30_000,
        nowMs: T0 + 31_000,
      });
      const taken = after.filter((r) => r.notification.fingerprint === n.fingerprint);
      expect(taken).toHaveLength(1);
      expect(taken[0]!.attempts).toBe(2);
      await store.alerts.finishOutbox(taken[0]!.id, 'delivered', T0 + 32_000);
      const [entry] = await store.alerts.listOutbox({ notifier: 'am', limit: 1 });
      expect(entry).toMatchObject({ outcome: 'delivered', leaseOwner: null, attempts: 2 });
      // Delivered: never claimed again.
      const later = await store.alerts.claimOutbox({
        owner: 'x',
        limit: 10,
        leaseMs: 1,
        nowMs: T0 + 3_600_000,
      });
      expect(later.filter((r) => r.notification.fingerprint === n.fingerprint)).toHaveLength(0);
    });

    it('sends a resolve only where the firing was delivered; an unsent firing is superseded instead', async () => {
      const seen = notification();
      const unseen = notification();
      await store.alerts.enqueue(
        [
          { notifier: 'hook', notification: seen, repeat: 0 },
          { notifier: 'hook', notification: unseen, repeat: 0 },
        ],
        T0,
      );
      const claimed = await store.alerts.claimOutbox({ owner: 'p', limit: 100, leaseMs: 10_000, nowMs: T0 });
      const seenRow = claimed.find((r) => r.notification.fingerprint === seen.fingerprint)!;
      const unseenRow = claimed.find((r) => r.notification.fingerprint === unseen.fingerprint)!;
      await store.alerts.finishOutbox(seenRow.id, 'delivered', T0 + 10);
      await store.alerts.retryOutbox(unseenRow.id, T0 + 60_000, 'HTTP 500', T0 + 10);

      const inserted = await store.alerts.enqueue(
        [
          { notifier: 'hook', notification: resolvedOf(seen, T0 + 100), repeat: 0 },
          { notifier: 'hook', notification: resolvedOf(unseen, T0 + 100), repeat: 0 },
        ],
        T0 + 100,
      );
      expect(inserted).toBe(1);
      const rows = await store.alerts.listOutbox({ notifier: 'hook', limit: 100 });
      const of = (fp: string) => rows.filter((r) => r.notification.fingerprint === fp);
      expect(of(unseen.fingerprint).map((r) => [r.notification.state, r.outcome])).toEqual([
        ['firing', 'superseded'],
      ]);
      expect(of(seen.fingerprint).map((r) => [r.notification.state, r.outcome])).toEqual([
        ['resolved', null],
        ['firing', 'delivered'],
      ]);
    });

    it('keeps per-alert order: a resolve waits while its firing is being delivered', async () => {
      const n = notification();
      await store.alerts.enqueue([{ notifier: 'ord', notification: n, repeat: 0 }], T0);
      const [firing] = (
        await store.alerts.claimOutbox({ owner: 'p', limit: 100, leaseMs: 10_000, nowMs: T0 })
      ).filter((r) => r.notification.fingerprint === n.fingerprint);
      expect(firing).toBeDefined();
      // Enqueued while the firing is in flight: kept (the firing may arrive), but not claimable before it ends.
      expect(
        await store.alerts.enqueue(
          [{ notifier: 'ord', notification: resolvedOf(n, T0 + 5), repeat: 0 }],
          T0 + 5,
        ),
      ).toBe(1);
      const meanwhile = await store.alerts.claimOutbox({
        owner: 'q',
        limit: 100,
        leaseMs: 10_000,
        nowMs: T0 + 6,
      });
      expect(meanwhile.filter((r) => r.notification.fingerprint === n.fingerprint)).toHaveLength(0);
      await store.alerts.finishOutbox(firing!.id, 'delivered', T0 + 7);
      const next = await store.alerts.claimOutbox({ owner: 'q', limit: 100, leaseMs: 10_000, nowMs: T0 + 8 });
      expect(
        next.filter((r) => r.notification.fingerprint === n.fingerprint).map((r) => r.notification.state),
      ).toEqual(['resolved']);
    });

    it('retries at the scheduled time, and supersedes a failing row once a newer notification exists', async () => {
      const n = notification();
      await store.alerts.enqueue([{ notifier: 'rt', notification: n, repeat: 0 }], T0);
      const pick = async (nowMs: number) =>
        (await store.alerts.claimOutbox({ owner: 'p', limit: 100, leaseMs: 1000, nowMs })).filter(
          (r) => r.notification.fingerprint === n.fingerprint,
        );
      const [a] = await pick(T0);
      await store.alerts.retryOutbox(a!.id, T0 + 4000, 'HTTP 503', T0 + 10);
      expect(await pick(T0 + 3999)).toHaveLength(0);
      expect(await store.alerts.nextOutboxAttemptMs(T0 + 3999)).toBe(T0 + 4000);
      const [b] = await pick(T0 + 4000);
      expect(b?.attempts).toBe(2);
      // The next repeat is enqueued while attempt 2 is in flight; attempt 2 fails: it is superseded, not retried.
      await store.alerts.enqueue([{ notifier: 'rt', notification: n, repeat: 1 }], T0 + 4001);
      await store.alerts.retryOutbox(b!.id, T0 + 8000, 'HTTP 503', T0 + 4002);
      const rows = await store.alerts.listOutbox({ notifier: 'rt', limit: 10 });
      expect(rows.map((r) => [r.dedupKey.split('|').at(-1), r.outcome, r.lastError])).toEqual([
        ['1', null, null],
        ['0', 'superseded', 'HTTP 503'],
      ]);
    });

    it('stores, lists and expires silences', async () => {
      const input = silenceInputSchema.parse({
        monitor: 'm1',
        matchers: ['pop=~"waw|fra"', 'severity!=info'],
        targets: ['127.20.0.0/24'],
        endsAt: new Date(T0 + 3_600_000).toISOString(),
        comment: 'maintenance',
        createdBy: 'ops',
      });
      const id = `s-${Date.now()}`;
      const created = await store.alerts.createSilence({
        ...input,
        id,
        startsAt: new Date(T0).toISOString(),
        createdAt: new Date(T0).toISOString(),
      });
      expect(created.matchers.map(String)).toEqual(['pop=~"waw|fra"', 'severity!="info"']);
      const got = await store.alerts.getSilence(id);
      expect(got).toMatchObject({
        monitor: 'm1',
        targets: ['127.20.0.0/24'],
        comment: 'maintenance',
        createdBy: 'ops',
      });
      expect(got!.matchers[0]!.matches({ pop: 'fra' })).toBe(true);
      expect((await store.alerts.listSilences({ nowMs: T0 + 10 })).map((s) => s.id)).toContain(id);
      expect(await store.alerts.expireSilence(id, T0 + 600_000)).toBe(true);
      expect((await store.alerts.listSilences({ nowMs: T0 + 600_001 })).map((s) => s.id)).not.toContain(id);
      expect((await store.alerts.getSilence(id))?.endsAt).toBe(new Date(T0 + 600_000).toISOString());
      expect(await store.alerts.expireSilence('nope', T0)).toBe(false);
    });
  });
}
