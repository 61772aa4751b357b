import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isFleetprobeError, type UsageError } from '../../src/core/errors.js';
import { createFleetModel, hostByName } from '../../src/sim/fleet.js';
import { DNS_FAULTS, HTTP_FAULTS, SSH_FAULTS, TCP_FAULTS, TLS_FAULTS } from '../../src/sim/fleet-model.js';
import { loadProfile, MIXED_PROFILE, parseProfile } from '../../src/sim/profile.js';

const snapshot = (model: ReturnType<typeof createFleetModel>) =>
  Array.from({ length: model.size }, (_, i) => model.host(i));

function expectUsage(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(isFleetprobeError(err, 'FP_USAGE')).toBe(true);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('fleet model', () => {
  it('is deterministic: same seed, same faults; another seed, other faults', () => {
    const a = snapshot(createFleetModel({ hosts: 500, seed: 7, profile: MIXED_PROFILE }));
    const b = snapshot(createFleetModel({ hosts: 500, seed: 7, profile: MIXED_PROFILE }));
    const c = snapshot(createFleetModel({ hosts: 500, seed: 8, profile: MIXED_PROFILE }));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('mixed covers every fault of every protocol at N=200, for several seeds', () => {
    for (const seed of [1, 2, 3, 42, 0xdeadbeef]) {
      const hosts = snapshot(createFleetModel({ hosts: 200, seed, profile: MIXED_PROFILE }));
      const seen = (key: 'http' | 'tls' | 'tcp' | 'dns' | 'ssh') => new Set(hosts.map((h) => h[key]));
      expect([...seen('http')].sort()).toEqual([...HTTP_FAULTS].sort());
      expect([...seen('tls')].sort()).toEqual([...TLS_FAULTS].sort());
      expect([...seen('tcp')].sort()).toEqual([...TCP_FAULTS].sort());
      expect([...seen('dns')].sort()).toEqual([...DNS_FAULTS].sort());
      expect([...seen('ssh')].sort()).toEqual([...SSH_FAULTS].sort());
    }
  });

  it('mixed holds its exact proportions in every block of 100 hosts', () => {
    const hosts = snapshot(createFleetModel({ hosts: 1000, seed: 5, profile: MIXED_PROFILE }));
    for (let block = 0; block < 10; block++) {
      const slice = hosts.slice(block * 100, block * 100 + 100);
      for (const [fault, weight] of Object.entries(MIXED_PROFILE.mix.http ?? {})) {
        expect(slice.filter((h) => h.http === fault).length).toBe(weight);
      }
    }
  });

  it('slow hosts get a latency inside the profile range; others 0', () => {
    const model = createFleetModel({ hosts: 2000, profile: MIXED_PROFILE });
    const slow = snapshot(model).filter((h) => h.http === 'slow');
    expect(slow.length).toBe(60);
    for (const h of slow) {
      expect(h.latencyMs).toBeGreaterThanOrEqual(50);
      expect(h.latencyMs).toBeLessThanOrEqual(400);
    }
    expect(snapshot(model).filter((h) => h.http !== 'slow' && h.latencyMs !== 0)).toEqual([]);
  });

  it('healthy by default', () => {
    const model = createFleetModel({ hosts: 50 });
    expect(
      snapshot(model).every((h) => h.http === 'healthy' && h.dns === 'healthy' && h.ssh === 'healthy'),
    ).toBe(true);
  });

  it('maps addresses to hosts and back, and rejects addresses outside the fleet', () => {
    const model = createFleetModel({ hosts: 1000, base: '127.20.0.0', zone: 'fleet.test' });
    expect(model.hostAt('127.20.1.4')?.index).toBe(260);
    expect(model.hostAt('::ffff:127.20.1.4')?.index).toBe(260);
    expect(model.host(260).address).toBe('127.20.1.4');
    expect(model.host(260).name).toBe('h260.fleet.test');
    expect(model.hostAt('127.20.0.0')?.index).toBe(0);
    expect(model.hostAt('127.20.3.231')?.index).toBe(999);
    expect(model.hostAt('127.20.3.232')).toBeUndefined();
    expect(model.hostAt('127.19.255.255')).toBeUndefined();
    expect(model.hostAt('127.20.0.256')).toBeUndefined();
    expect(model.hostAt('127.20.00.1')).toBeUndefined();
    expect(model.hostAt('fleet')).toBeUndefined();
    expect(() => model.host(1000)).toThrow(RangeError);
    expect(hostByName(model, 'H260.Fleet.Test.')?.address).toBe('127.20.1.4');
    expect(hostByName(model, 'h1000.fleet.test')).toBeUndefined();
    expect(hostByName(model, 'h01.fleet.test')).toBeUndefined();
    expect(hostByName(model, 'h1.other.test')).toBeUndefined();
  });

  it('rejects bad sizes and ranges with a UsageError', () => {
    expectUsage(() => createFleetModel({ hosts: 0 }));
    expectUsage(() => createFleetModel({ hosts: 1.5 }));
    expectUsage(() => createFleetModel({ hosts: 10, base: 'nope' }));
    expectUsage(() => createFleetModel({ hosts: 10, base: '10.0.0.1' }));
    expectUsage(() => createFleetModel({ hosts: 10, base: '127.255.255.250' }));
    expect(createFleetModel({ hosts: 6, base: '127.255.255.250' }).host(5).address).toBe('127.255.255.255');
    expectUsage(() => createFleetModel({ hosts: 10, zone: 'bad zone' }));
  });

  it('holds 100,000 hosts without materialising them', () => {
    const before = process.memoryUsage().heapUsed;
    const model = createFleetModel({ hosts: 100_000, profile: MIXED_PROFILE });
    expect(model.host(99_999).address).toBe('127.21.134.159');
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(5 * 1024 * 1024);
  });
});

describe('profile files', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-sim-profile-'));
  const file = (name: string, body: unknown) => {
    const p = path.join(dir, name);
    writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
    return p;
  };

  it('ranges override per protocol, then mix, then defaults', () => {
    const profile = loadProfile(
      file('p.json', {
        defaults: { tcp: 'tarpit' },
        ranges: [
          { from: 0, to: 9, http: 'reset', dns: 'nxdomain' },
          { from: 5, to: 19, http: 'garbage', ssh: 'auth-refused' },
        ],
        mix: { tls: { 'expired-cert': 1 } },
        slow: { minMs: 10, maxMs: 10 },
      }),
    );
    const model = createFleetModel({ hosts: 30, profile });
    expect(model.host(3)).toMatchObject({ http: 'reset', dns: 'nxdomain', ssh: 'healthy', tcp: 'tarpit' });
    expect(model.host(7)).toMatchObject({ http: 'reset', dns: 'nxdomain', ssh: 'auth-refused' });
    expect(model.host(15)).toMatchObject({ http: 'garbage', dns: 'healthy', ssh: 'auth-refused' });
    expect(model.host(25)).toMatchObject({ http: 'healthy', dns: 'healthy', tcp: 'tarpit' });
    for (let i = 0; i < 30; i++) expect(model.host(i).tls).toBe('expired-cert');
  });

  it('a mix with tiny weights still gives every positive weight a place', () => {
    const profile = parseProfile({ mix: { http: { healthy: 999, tarpit: 1 } } }, 'inline');
    const model = createFleetModel({ hosts: 1000, profile });
    expect(snapshot(model).filter((h) => h.http === 'tarpit').length).toBe(1);
  });

  it('rejects bad files with a UsageError naming the file', () => {
    for (const [name, body] of [
      ['unknown-fault.json', { ranges: [{ from: 0, to: 1, http: 'explode' }] }],
      ['reversed.json', { ranges: [{ from: 5, to: 1 }] }],
      ['unknown-key.json', { colour: 'red' }],
      ['zero-mix.json', { mix: { dns: { healthy: 0 } } }],
      ['slow.json', { slow: { minMs: 10, maxMs: 1 } }],
      ['not-json.json', '{nope'],
    ] as const) {
      const p = file(name, body);
      expect(expectUsage(() => loadProfile(p)).message).toContain(p);
    }
    expectUsage(() => loadProfile(path.join(dir, 'missing.json')));
  });
});
