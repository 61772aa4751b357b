import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { FaultOverrides, MAX_FAULT_OVERRIDES, SimFaultError } from '../../src/sim/fault-overrides.js';
import { createFleetModel } from '../../src/sim/fleet.js';
import { ipv4ToInt } from '../../src/sim/ipv4.js';
import { type ManifestEntry, manifestEntry } from '../../src/sim/manifest.js';
import { MIXED_PROFILE } from '../../src/sim/profile.js';
import { startSimulator } from '../../src/sim/simulator.js';
import { exchange, headAndBody } from './raw-client.js';

const BASE = '127.20.40.0';
const span = { baseInt: ipv4ToInt(BASE), size: 300 };

describe('FaultOverrides', () => {
  it('addresses a host, a CIDR or first-last, clipped to the fleet; the newest wins per protocol', () => {
    const faults = new FaultOverrides(span);
    const model = createFleetModel({ hosts: 300, base: BASE, profile: MIXED_PROFILE, overrides: faults });
    const seeded = Array.from({ length: 300 }, (_, i) => model.host(i));

    const cidr = faults.set({ range: '127.20.40.0/26', fault: 'refused' });
    expect(cidr).toMatchObject({ firstIndex: 0, lastIndex: 63, faults: { http: 'refused', tcp: 'refused' } });
    faults.set({ range: '127.20.40.10-127.20.40.19', fault: 'tarpit', protocol: 'tcp' });
    faults.set({ range: '127.20.40.250/24', fault: 'nxdomain' }); // 127.20.40.0-255: clipped to index 255
    faults.set({ range: '127.20.41.7', fault: 'healthy' }); // index 263, every protocol

    expect(model.host(5)).toMatchObject({ http: 'refused', tcp: 'refused', dns: 'nxdomain' });
    expect(model.host(5).tls).toBe(seeded[5]!.tls); // refused is no TLS fault: the seeded one stays
    expect(model.host(12)).toMatchObject({ http: 'refused', tcp: 'tarpit' });
    expect(model.host(100)).toMatchObject({ http: seeded[100]!.http, dns: 'nxdomain' });
    expect(model.host(263)).toMatchObject({
      http: 'healthy',
      tls: 'healthy',
      tcp: 'healthy',
      ssh: 'healthy',
    });
    expect(model.host(299)).toEqual(seeded[299]);

    expect(faults.remove(cidr.id)).toBe(true);
    expect(model.host(5).http).toBe(seeded[5]!.http);
    expect(faults.list().map((o) => o.faults)).toEqual([
      { tcp: 'tarpit' },
      { dns: 'nxdomain' },
      expect.any(Object),
    ]);
    expect(faults.clear()).toBe(3);
    for (let i = 0; i < 300; i++) expect(model.host(i)).toEqual(seeded[i]);
  });

  it('a slow override gets a latency from the profile range', () => {
    const faults = new FaultOverrides(span);
    const model = createFleetModel({ hosts: 300, base: BASE, overrides: faults });
    faults.set({ range: BASE, fault: 'slow' });
    expect(model.host(0).latencyMs).toBeGreaterThanOrEqual(50);
    expect(manifestEntry(model.host(0), 100).expect.http).toBe('timeout');
  });

  it('rejects bad requests with a coded error naming the field, and holds a bounded number', () => {
    const faults = new FaultOverrides(span);
    const bad = [
      { range: '127.20.40.0/33', fault: 'refused' },
      { range: '127.20.40.9-127.20.40.1', fault: 'refused' },
      { range: 'h1', fault: 'refused' },
      { range: '127.20.50.0/24', fault: 'refused' }, // outside the fleet
      { range: BASE, fault: 'on-fire' },
      { range: BASE, fault: 'nxdomain', protocol: 'tcp' as const },
      { range: BASE, fault: 'refused', protocol: 'smtp' as never },
    ];
    for (const b of bad) {
      expect(() => faults.set(b)).toThrow(SimFaultError);
    }
    expect(() => faults.set(bad[4]!)).toThrow(/^fault: /);
    for (let i = 0; i < MAX_FAULT_OVERRIDES; i++) faults.set({ range: BASE, fault: 'reset' });
    expect(() => faults.set({ range: BASE, fault: 'reset' })).toThrow(/reset or remove/);
    expect(faults.size).toBe(MAX_FAULT_OVERRIDES);
  });
});

describe('control endpoint', () => {
  it('POST /faults changes what the servers do at once; GET lists; DELETE resets; /manifest reflects it', async () => {
    const sim = await startSimulator({
      hosts: 100,
      base: '127.20.41.0',
      ports: { http: 0 },
      protocols: ['http'],
      controlPort: 0,
    });
    const control = `http://127.0.0.1:${sim.controlPort}`;
    const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => {
      const res = await request(`${control}${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.statusCode, text: await res.body.text() };
    };
    try {
      const host = '127.20.41.7';
      expect(headAndBody((await exchange(host, sim.ports.http!)).data).body).toBe('ok h7\n');

      const set = await call('POST', '/faults', { range: '127.20.41.0-127.20.41.9', fault: 'http5xx' });
      expect(set.status).toBe(201);
      expect(JSON.parse(set.text).override).toMatchObject({ first: '127.20.41.0', last: '127.20.41.9' });
      expect(headAndBody((await exchange(host, sim.ports.http!)).data).head).toMatch(/^HTTP\/1\.1 5\d\d/);
      expect(sim.model.hostAt(host)?.http).toBe('http5xx');

      const listed = JSON.parse((await call('GET', '/faults')).text) as { overrides: unknown[] };
      expect(listed.overrides).toHaveLength(1);
      const one = JSON.parse((await call('GET', `/hosts/${host}`)).text) as ManifestEntry;
      expect(one.expect.http).toBe('fail');
      const manifest = (await call('GET', '/manifest')).text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as ManifestEntry);
      expect(manifest).toHaveLength(100);
      expect(manifest.filter((e) => e.expect.http === 'fail').map((e) => e.index)).toEqual([
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
      ]);

      const bad = await call('POST', '/faults', { range: '127.20.41.0', fault: 'nope' });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.text)).toMatchObject({ code: 'FP_SIM_FAULT' });
      expect((await call('POST', '/faults', '{')).status).toBe(400);

      expect(JSON.parse((await call('DELETE', '/faults')).text)).toEqual({ removed: 1 });
      expect(headAndBody((await exchange(host, sim.ports.http!)).data).body).toBe('ok h7\n');
    } finally {
      await sim.close();
    }
  });
});
