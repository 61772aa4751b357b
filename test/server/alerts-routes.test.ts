import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { FleetprobeServer } from '../../src/server/index.js';
import { buildServer } from '../../src/server/index.js';
import { openStore, type Store } from '../../src/store/index.js';

const T0 = Date.parse('2026-11-30T10:00:00.000Z');

describe('alerts and silences routes', () => {
  let store: Store;
  let server: FleetprobeServer;
  beforeAll(async () => {
    // The routes read the clock (silences start now, must end later): only Date is faked, timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(T0);
    store = await openStore(':memory:');
    server = await buildServer({ auth: { tokens: [] }, store });
    const base = {
      monitor: 'edge',
      rule: 'PopDown',
      kind: 'cohort' as const,
      labels: { alertname: 'PopDown', monitor: 'edge', pop: 'waw' },
      annotations: { summary: 'down' },
      startsAt: new Date(T0).toISOString(),
      silencedBy: null,
      inhibitedBy: null,
      updatedAt: new Date(T0).toISOString(),
    };
    await store.alerts.recordAlerts([
      { ...base, fingerprint: 'aaaaaaaaaaaaaaaa', state: 'firing', endsAt: null },
      { ...base, fingerprint: 'bbbbbbbbbbbbbbbb', state: 'resolved', endsAt: new Date(T0 + 1).toISOString() },
    ]);
  });
  afterAll(async () => {
    await server?.app.close();
    await store?.close();
    vi.useRealTimers();
  });

  it('GET /api/v1/alerts filters by state and pages', async () => {
    const firing = await server.app.inject({ method: 'GET', url: '/api/v1/alerts?state=firing' });
    expect(firing.statusCode).toBe(200);
    expect(firing.json().alerts.map((a: { fingerprint: string }) => a.fingerprint)).toEqual([
      'aaaaaaaaaaaaaaaa',
    ]);
    const page = await server.app.inject({ method: 'GET', url: '/api/v1/alerts?limit=1' });
    expect(page.json()).toMatchObject({ alerts: [{ state: 'resolved' }], nextCursor: expect.any(String) });
    const bad = await server.app.inject({ method: 'GET', url: '/api/v1/alerts?state=pending' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^query\.state: /);
  });

  it('creates, lists, reads and expires a silence; bad bodies are 400 naming the field', async () => {
    const created = await server.app.inject({
      method: 'POST',
      url: '/api/v1/silences',
      payload: {
        matchers: ['pop="waw"'],
        targets: ['127.20.0.0/24'],
        endsAt: '2026-11-30T12:00:00Z',
        comment: 'swap',
      },
    });
    expect(created.statusCode).toBe(201);
    const s = created.json();
    expect(s).toMatchObject({
      matchers: ['pop="waw"'],
      targets: ['127.20.0.0/24'],
      startsAt: new Date(T0).toISOString(),
      endsAt: '2026-11-30T12:00:00.000Z',
      monitor: null,
    });
    expect(
      (await server.app.inject({ method: 'GET', url: '/api/v1/silences' })).json().silences,
    ).toHaveLength(1);
    expect((await server.app.inject({ method: 'GET', url: `/api/v1/silences/${s.id}` })).json().comment).toBe(
      'swap',
    );
    expect((await server.app.inject({ method: 'DELETE', url: `/api/v1/silences/${s.id}` })).statusCode).toBe(
      204,
    );
    expect(
      (await server.app.inject({ method: 'GET', url: '/api/v1/silences' })).json().silences,
    ).toHaveLength(0);
    expect(
      (await server.app.inject({ method: 'GET', url: '/api/v1/silences?all=true' })).json().silences,
    ).toHaveLength(1);
    expect((await server.app.inject({ method: 'DELETE', url: '/api/v1/silences/nope' })).statusCode).toBe(
      404,
    );

    const bad = await server.app.inject({
      method: 'POST',
      url: '/api/v1/silences',
      payload: { matchers: ['pop=~"(a"'], endsAt: '2026-11-30T12:00:00Z' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^body\.matchers\[0\]: matcher/);
    const past = await server.app.inject({
      method: 'POST',
      url: '/api/v1/silences',
      payload: { monitor: 'edge', endsAt: '2026-11-30T09:00:00Z' },
    });
    expect(past.statusCode).toBe(400);
    expect(past.json().message).toBe('body.endsAt: must be in the future');
  });
});
