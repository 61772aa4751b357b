import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlertRecorder } from '../../src/alerts/alert-recorder.js';
import { NotifyError } from '../../src/alerts/errors.js';
import { AlertEvaluator } from '../../src/alerts/evaluator.js';
import { EmailNotifier } from '../../src/alerts/notifiers/email-notifier.js';
import type { Notifier } from '../../src/alerts/notifiers/notifier.js';
import { createNotifier, notifierConfigsSchema } from '../../src/alerts/notifiers/notifier-config.js';
import { SlackNotifier } from '../../src/alerts/notifiers/slack-notifier.js';
import {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifySignature,
  WebhookNotifier,
} from '../../src/alerts/notifiers/webhook-notifier.js';
import { OutboxDispatcher } from '../../src/alerts/outbox-dispatcher.js';
import { alertRulesSchema } from '../../src/model/alert-rules.js';
import type { Notification } from '../../src/model/notification.js';
import { type Silence, silencedBy, silenceInputSchema } from '../../src/model/silences.js';
import { openStore, type Store } from '../../src/store/index.js';
import { breakWhere, fleet, popOf, snapshot, T0 } from './fixtures.js';
import { startReceiver } from './receiver.js';

interface SlackBody {
  text: string;
  channel?: string;
  attachments: { color: string; title_link?: string; fields: unknown[] }[];
}

const SECRET = 'a-webhook-secret-of-some-length';
const MIN = 60_000;
const RULES = alertRulesSchema.parse([
  { kind: 'target', name: 'TargetDown' },
  { kind: 'cohort', name: 'PopDown', label: 'pop', percent: 50, severity: 'critical' },
]);

const notification = (over: Partial<Notification> = {}): Notification => ({
  fingerprint: '0123456789abcdef',
  state: 'firing',
  labels: { alertname: 'PopDown', monitor: 'edge', pop: 'waw', severity: 'critical' },
  annotations: { summary: '50 of 50 targets with pop=waw are DOWN (100%)', ranges: '127.20.0.[0-49]' },
  startsAt: new Date(T0).toISOString(),
  endsAt: null,
  generatorURL: 'http://127.0.0.1:8080/#/monitors/edge',
  ...over,
});

let dir: string;
let store: Store;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fp-alerts-'));
  store = await openStore(join(dir, 'alerts.db'));
});
afterAll(async () => {
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

function silence(over: Record<string, unknown>, id: string, startsMs: number): Silence {
  const input = silenceInputSchema.parse({ endsAt: new Date(startsMs + 30 * MIN).toISOString(), ...over });
  return {
    ...input,
    id,
    monitor: input.monitor ?? null,
    startsAt: input.startsAt ?? new Date(startsMs).toISOString(),
    createdAt: new Date(startsMs).toISOString(),
  };
}

describe('webhook notifier through the outbox (fake time)', () => {
  const notifiers: Notifier[] = [];
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
  });
  afterEach(async () => {
    vi.useRealTimers();
    for (const n of notifiers.splice(0)) await n.close();
  });

  it('signs every attempt, retries a 500 with exponential backoff, then delivers once', async () => {
    const rx = await startReceiver([500, 500, 200]);
    try {
      const hook = new WebhookNotifier({
        name: 'hook-retry',
        url: rx.url,
        secret: SECRET,
        repeatIntervalMs: 4 * 3_600_000,
        timeoutMs: 5000,
        matchers: [],
      });
      notifiers.push(hook);
      const dispatcher = new OutboxDispatcher({ store: store.alerts, notifiers: [hook], backoffMs: 1000 });
      await store.alerts.enqueue([{ notifier: 'hook-retry', notification: notification(), repeat: 0 }], T0);

      expect(await dispatcher.deliverDue()).toMatchObject({ claimed: 1, retried: 1 });
      expect(await dispatcher.deliverDue()).toMatchObject({ claimed: 0 });
      vi.setSystemTime(T0 + 999);
      expect(await dispatcher.deliverDue()).toMatchObject({ claimed: 0 });
      vi.setSystemTime(T0 + 1000);
      expect(await dispatcher.deliverDue()).toMatchObject({ claimed: 1, retried: 1 });
      vi.setSystemTime(T0 + 2999);
      expect(await dispatcher.deliverDue()).toMatchObject({ claimed: 0 }); // second retry waits 2 s
      vi.setSystemTime(T0 + 3000);
      expect(await dispatcher.deliverDue()).toMatchObject({ claimed: 1, delivered: 1 });
      vi.setSystemTime(T0 + 3_600_000);
      expect(await dispatcher.deliverDue()).toMatchObject({ claimed: 0 });

      expect(rx.received).toHaveLength(3);
      const deliveries = new Set(rx.received.map((r) => r.headers[DELIVERY_HEADER]));
      expect(deliveries.size).toBe(1);
      for (const r of rx.received) {
        expect(verifySignature(SECRET, r.body, r.headers[SIGNATURE_HEADER] as string)).toBe(true);
        expect(r.headers[SIGNATURE_HEADER]).toMatch(/^sha256=[0-9a-f]{64}$/);
        const body = JSON.parse(r.body) as { sentAt: string; alert: Notification; deliveryId: string };
        expect(Number(r.headers[TIMESTAMP_HEADER])).toBe(Math.floor(Date.parse(body.sentAt) / 1000));
        expect(body.alert).toEqual(notification());
        expect(body.deliveryId).toBe(r.headers[DELIVERY_HEADER]);
      }
      // A tampered body or another secret does not verify.
      const r0 = rx.received[0]!;
      expect(
        verifySignature(SECRET, r0.body.replace('waw', 'fra'), r0.headers[SIGNATURE_HEADER] as string),
      ).toBe(false);
      expect(
        verifySignature('another-secret-entirely', r0.body, r0.headers[SIGNATURE_HEADER] as string),
      ).toBe(false);
      expect(dispatcher.counters.get('hook-retry')).toEqual({
        delivered: 1,
        failed: 2,
        retried: 2,
        gaveUp: 0,
      });
      const [row] = await store.alerts.listOutbox({ notifier: 'hook-retry', limit: 1 });
      expect(row).toMatchObject({ outcome: 'delivered', attempts: 3 });
    } finally {
      await rx.close();
    }
  });

  it('gives up on a permanent refusal (HTTP 400) and on an unknown notifier', async () => {
    const rx = await startReceiver([400]);
    try {
      const hook = new WebhookNotifier({
        name: 'hook-400',
        url: rx.url,
        secret: SECRET,
        repeatIntervalMs: MIN,
        timeoutMs: 5000,
        matchers: [],
      });
      notifiers.push(hook);
      const dispatcher = new OutboxDispatcher({ store: store.alerts, notifiers: [hook] });
      await store.alerts.enqueue(
        [
          { notifier: 'hook-400', notification: notification(), repeat: 0 },
          { notifier: 'gone', notification: notification(), repeat: 0 },
        ],
        T0,
      );
      expect(await dispatcher.deliverDue()).toMatchObject({ claimed: 2, gaveUp: 2 });
      const [row] = await store.alerts.listOutbox({ notifier: 'hook-400', limit: 1 });
      expect(row?.outcome).toBe('gave_up');
      expect(row?.lastError).toMatch(
        /^FP_NOTIFY notifier hook-400: POST http:\/\/127\.0\.0\.1:\d+: HTTP 400 status 400$/,
      );
      expect(row?.lastError).not.toContain('secret-path');
    } finally {
      await rx.close();
    }
  });

  it('silences: recorded but not sent while in force; repeats once per interval; the resolve is sent', async () => {
    const rx = await startReceiver([200]);
    try {
      const hook = new WebhookNotifier({
        name: 'hook-sil',
        url: rx.url,
        secret: SECRET,
        repeatIntervalMs: 10 * MIN,
        timeoutMs: 5000,
        matchers: [],
      });
      notifiers.push(hook);
      const recorder = new AlertRecorder({ store: store.alerts, notifiers: [hook] });
      const dispatcher = new OutboxDispatcher({ store: store.alerts, notifiers: [hook] });
      const ev = new AlertEvaluator('sil', RULES);
      const down = breakWhere(fleet(100, popOf), (t) => t.labels.pop === 'waw', T0);
      const window = [silence({ targets: ['127.20.0.0/26'], comment: 'rack swap' }, 'maint', T0)];

      const round = async (atMs: number, targets = down) => {
        vi.setSystemTime(atMs);
        const out = await recorder.record(ev.evaluate(snapshot(targets, atMs, 'sil')), atMs, window);
        await dispatcher.deliverDue();
        return out;
      };
      expect(await round(T0)).toEqual({ enqueued: 0, silenced: 51, inhibited: 50 });
      const [recorded] = (
        await store.alerts.listAlerts({ monitor: 'sil', state: 'firing', limit: 100 })
      ).alerts.filter((a) => a.kind === 'cohort');
      expect(recorded?.silencedBy).toBe('maint');
      expect(await round(T0 + 29 * MIN)).toMatchObject({ enqueued: 0 });
      // Nothing changed: the history rows are not rewritten every round.
      const unchanged = (await store.alerts.listAlerts({ monitor: 'sil', limit: 100 })).alerts;
      expect(new Set(unchanged.map((a) => a.updatedAt))).toEqual(new Set([new Date(T0).toISOString()]));
      expect(rx.received).toHaveLength(0);

      // The window ends: the next round sends it (repeat 3 of 10 min), later rounds only once per interval.
      expect(await round(T0 + 31 * MIN)).toMatchObject({ enqueued: 1, silenced: 0 });
      expect(await round(T0 + 35 * MIN)).toMatchObject({ enqueued: 0 });
      expect(await round(T0 + 39 * MIN)).toMatchObject({ enqueued: 0 });
      expect(await round(T0 + 40 * MIN)).toMatchObject({ enqueued: 1 });
      expect(rx.received).toHaveLength(2);
      expect(
        rx.received.map((r) => (JSON.parse(r.body) as { alert: Notification }).alert.labels.pop),
      ).toEqual(['waw', 'waw']);

      expect(await round(T0 + 41 * MIN, fleet(100, popOf))).toMatchObject({ enqueued: 1 });
      expect(rx.received).toHaveLength(3);
      const last = JSON.parse(rx.received[2]!.body) as { alert: Notification };
      expect(last.alert).toMatchObject({ state: 'resolved', endsAt: new Date(T0 + 41 * MIN).toISOString() });
    } finally {
      await rx.close();
    }
  });
});

describe('OutboxDispatcher in the background', () => {
  it('delivers what is enqueued after wake(), and stop() ends its loop', async () => {
    const rx = await startReceiver([200]);
    const hook = new WebhookNotifier({
      name: 'hook-bg',
      url: rx.url,
      secret: SECRET,
      repeatIntervalMs: MIN,
      timeoutMs: 5000,
      matchers: [],
    });
    const dispatcher = new OutboxDispatcher({ store: store.alerts, notifiers: [hook], pollMs: 3_600_000 });
    try {
      dispatcher.start();
      const arrived = rx.next();
      await store.alerts.enqueue(
        [{ notifier: 'hook-bg', notification: notification({ fingerprint: 'fedcba9876543210' }), repeat: 0 }],
        Date.now(),
      );
      dispatcher.wake();
      const r = await arrived;
      expect((JSON.parse(r.body) as { alert: Notification }).alert.fingerprint).toBe('fedcba9876543210');
    } finally {
      await dispatcher.stop();
      await hook.close();
      await rx.close();
    }
  });
});

describe('silence matching', () => {
  const ev = new AlertEvaluator('edge', RULES);
  const down = breakWhere(fleet(100, popOf), (t) => t.labels.pop === 'waw' || t.target === '127.20.0.70', T0);
  const { firing } = ev.evaluate(snapshot(down, T0));
  const cohort = firing.find((a) => a.kind === 'cohort')!;
  const lone = firing.find((a) => a.labels.target === '127.20.0.70')!;
  const ids = (s: Silence) => firing.filter((a) => silencedBy(a, [s], T0) !== null).length;

  it('by monitor, label matchers (=, !=, =~, !~), target, CIDR, and only between start and end', () => {
    expect(ids(silence({ monitor: 'edge' }, 'm', T0))).toBe(firing.length);
    expect(ids(silence({ monitor: 'other' }, 'o', T0))).toBe(0);
    expect(ids(silence({ matchers: ['pop="waw"'] }, 'eq', T0))).toBe(51); // cohort + its 50 members
    expect(ids(silence({ matchers: ['pop=~"w.w|fr"'] }, 're', T0))).toBe(51); // anchored: "fr" does not match "fra"
    expect(ids(silence({ matchers: ['pop!~"waw"', 'alertname!=PopDown'] }, 'ne', T0))).toBe(1);
    expect(ids(silence({ targets: ['127.20.0.70'] }, 't', T0))).toBe(1);
    // A CIDR covers the cohort alert only when every DOWN member lies inside it.
    expect(silencedBy(cohort, [silence({ targets: ['127.20.0.0/26'] }, 'c', T0)], T0)).toBe('c');
    expect(silencedBy(cohort, [silence({ targets: ['127.20.0.0/27'] }, 'c', T0)], T0)).toBeNull();
    expect(silencedBy(lone, [silence({ targets: ['127.20.0.64/29'] }, 'c', T0)], T0)).toBe('c');
    const later = silence({ monitor: 'edge', startsAt: new Date(T0 + MIN).toISOString() }, 'later', T0);
    expect(silencedBy(lone, [later], T0)).toBeNull();
    expect(silencedBy(lone, [later], T0 + MIN)).toBe('later');
    expect(silencedBy(lone, [later], T0 + 30 * MIN)).toBeNull(); // ends exclusive
  });

  it('refuses a silence that would match everything, bad matchers and bad targets', () => {
    const endsAt = new Date(T0).toISOString();
    expect(() => silenceInputSchema.parse({ endsAt })).toThrow(/monitor, matchers or targets/);
    expect(() => silenceInputSchema.parse({ endsAt, matchers: ['pop=~"(a"'] })).toThrow(/invalid pattern/);
    expect(() => silenceInputSchema.parse({ endsAt, matchers: ['pop'] })).toThrow(/bad matcher/);
    expect(() => silenceInputSchema.parse({ endsAt, targets: ['10.0.0.0/33'] })).toThrow(/CIDR/);
    expect(() =>
      silenceInputSchema.parse({ monitor: 'x', startsAt: endsAt, endsAt: new Date(T0 - 1).toISOString() }),
    ).toThrow(/after startsAt/);
  });
});

describe('Slack and email notifiers', () => {
  it('posts a Slack-compatible payload to a real receiver', async () => {
    const rx = await startReceiver([200]);
    const slack = new SlackNotifier({
      name: 'slack',
      url: rx.url,
      channel: '#noc',
      repeatIntervalMs: MIN,
      timeoutMs: 5000,
      matchers: [],
    });
    try {
      await slack.send(notification(), { signal: AbortSignal.timeout(5000), deliveryId: 'd1' });
      await slack.send(notification({ state: 'resolved', endsAt: new Date(T0 + MIN).toISOString() }), {
        signal: AbortSignal.timeout(5000),
        deliveryId: 'd2',
      });
      const [firing, resolved] = rx.received.map((r) => JSON.parse(r.body) as SlackBody);
      expect(firing!.text).toBe(
        '[FIRING:critical] PopDown (edge): 50 of 50 targets with pop=waw are DOWN (100%)',
      );
      expect(firing!.channel).toBe('#noc');
      expect(firing!.attachments[0]).toMatchObject({
        color: '#d00000',
        title_link: 'http://127.0.0.1:8080/#/monitors/edge',
      });
      expect(firing!.attachments[0]!.fields).toContainEqual({
        title: 'ranges',
        value: '127.20.0.[0-49]',
        short: true,
      });
      expect(resolved!.text).toMatch(/^\[RESOLVED:critical\]/);
      expect(resolved!.attachments[0]!.color).toBe('#2eb886');
    } finally {
      await slack.close();
      await rx.close();
    }
  });

  describe('email over SMTP (smtp-server in-process)', () => {
    const mails: { from: string; to: string[]; raw: string }[] = [];
    let server: SMTPServer;
    let port: number;
    beforeAll(async () => {
      server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onRcptTo(address, _session, cb) {
          if (address.address.startsWith('nobody@')) {
            const err = Object.assign(new Error('no such mailbox'), { responseCode: 550 });
            cb(err);
            return;
          }
          cb();
        },
        onData(stream, session, cb) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            mails.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw: Buffer.concat(chunks).toString('utf8'),
            });
            cb();
          });
        },
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      port = (server.server.address() as AddressInfo).port;
    });
    afterAll(async () => {
      await new Promise<void>((r) => server.close(() => r()));
    });
    const email = (to: string[]) =>
      new EmailNotifier({
        name: 'mail',
        host: '127.0.0.1',
        port,
        secure: false,
        requireTLS: false,
        insecure: false,
        from: 'fleetprobe@example.test',
        to,
        repeatIntervalMs: MIN,
        timeoutMs: 5000,
        matchers: [],
      });

    it('delivers the alert as a mail', async () => {
      await email(['oncall@example.test']).send(notification(), {
        signal: AbortSignal.timeout(5000),
        deliveryId: 'mail-1',
      });
      expect(mails).toHaveLength(1);
      expect(mails[0]).toMatchObject({ from: 'fleetprobe@example.test', to: ['oncall@example.test'] });
      expect(mails[0]!.raw).toContain(
        'Subject: [FIRING:critical] PopDown (edge): 50 of 50 targets with pop=waw',
      );
      expect(mails[0]!.raw).toContain('ranges: 127.20.0.[0-49]');
      expect(mails[0]!.raw).toContain('X-Fleetprobe-Delivery: mail-1');
    });

    it('a 5xx refusal is permanent; a closed port is worth a retry', async () => {
      const refused = await email(['nobody@example.test'])
        .send(notification(), { signal: AbortSignal.timeout(5000), deliveryId: 'x' })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(NotifyError);
      expect(refused).toMatchObject({ code: 'FP_NOTIFY', retryable: false, status: 550 });
      const closed = new EmailNotifier({
        ...{
          name: 'm2',
          host: '127.0.0.1',
          port: 1,
          secure: false,
          requireTLS: false,
          insecure: false,
          from: 'a@b.c',
          to: ['c@d.e'],
          repeatIntervalMs: MIN,
          timeoutMs: 2000,
          matchers: [],
        },
      });
      const down = await closed
        .send(notification(), { signal: AbortSignal.timeout(5000), deliveryId: 'y' })
        .catch((e: unknown) => e);
      expect(down).toMatchObject({ code: 'FP_NOTIFY', retryable: true });
    });
  });
});

describe('notifier config', () => {
  it('validates entries and builds each notifier type', async () => {
    const list = notifierConfigsSchema.parse([
      { type: 'alertmanager', name: 'am', url: 'http://127.0.0.1:9093' },
      {
        type: 'webhook',
        name: 'hook',
        url: 'https://127.0.0.1/x',
        secret: SECRET,
        matchers: ['severity="critical"'],
      },
      { type: 'slack', name: 'slack', url: 'https://127.0.0.1/services/T/B/X', repeatInterval: '1h' },
      { type: 'email', name: 'mail', host: '127.0.0.1', from: 'a@b.c', to: ['d@e.f'] },
    ]);
    const built = list.map(createNotifier);
    expect(built.map((n) => [n.type, n.repeatIntervalMs])).toEqual([
      ['alertmanager', 60_000],
      ['webhook', 4 * 3_600_000],
      ['slack', 3_600_000],
      ['email', 4 * 3_600_000],
    ]);
    expect(built[1]!.matchers.map(String)).toEqual(['severity="critical"']);
    for (const n of built) await n.close();
    expect(() =>
      notifierConfigsSchema.parse([{ type: 'webhook', name: 'h', url: 'http://x', secret: 'short' }]),
    ).toThrow(/16 characters/);
    expect(() => notifierConfigsSchema.parse([{ type: 'alertmanager', name: 'a', url: 'ftp://x' }])).toThrow(
      /http/,
    );
    expect(() =>
      notifierConfigsSchema.parse([
        { type: 'alertmanager', name: 'a', url: 'http://x' },
        { type: 'alertmanager', name: 'a', url: 'http://y' },
      ]),
    ).toThrow(/duplicate notifier name/);
  });
});
