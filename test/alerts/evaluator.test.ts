import { describe, expect, it } from 'vitest';
import { AlertEvaluator, p95Of } from '../../src/alerts/evaluator.js';
import { fingerprintOf } from '../../src/alerts/fingerprint.js';
import type { TargetStatus } from '../../src/alerts/types.js';
import { alertRulesSchema } from '../../src/model/alert-rules.js';
import { breakWhere, fleet, popOf, snapshot, T0 } from './fixtures.js';

const rules = (r: unknown[]) => alertRulesSchema.parse(r);
const MIN = 60_000;

describe('AlertEvaluator', () => {
  it('fingerprints are stable under label order and differ per label set', () => {
    expect(fingerprintOf({ a: '1', b: '2' })).toBe(fingerprintOf({ b: '2', a: '1' }));
    expect(fingerprintOf({ a: '1', b: '2' })).not.toBe(fingerprintOf({ a: '1', b: '3' }));
    expect(fingerprintOf({ a: '1b' })).not.toBe(fingerprintOf({ a: '1', b: '' }));
    expect(fingerprintOf({})).toMatch(/^[0-9a-f]{16}$/);
  });

  it('a target alert waits `for` from when the target went DOWN, keeps its startsAt, and resolves when it is UP', () => {
    const ev = new AlertEvaluator('edge', rules([{ kind: 'target', name: 'Down', for: '5m' }]));
    const healthy = fleet(3);
    const down = breakWhere(healthy, (_, i) => i === 1, T0);
    expect(ev.evaluate(snapshot(down, T0 + 4 * MIN)).firing).toHaveLength(0);
    const fired = ev.evaluate(snapshot(down, T0 + 5 * MIN)).firing;
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({
      state: 'firing',
      startsAt: new Date(T0 + 5 * MIN).toISOString(),
      kind: 'target',
      labels: {
        alertname: 'Down',
        monitor: 'edge',
        severity: 'warning',
        target: '127.20.0.1',
        port: '80',
        team: 'cdn',
      },
    });
    expect(fired[0]!.annotations.summary).toBe('127.20.0.1:80 is DOWN');
    const again = ev.evaluate(snapshot(down, T0 + 9 * MIN));
    expect(again.firing[0]!.startsAt).toBe(fired[0]!.startsAt);
    const up = ev.evaluate(snapshot(healthy, T0 + 10 * MIN));
    expect(up.firing).toHaveLength(0);
    expect(up.resolved).toMatchObject([
      {
        fingerprint: fired[0]!.fingerprint,
        state: 'resolved',
        endsAt: new Date(T0 + 10 * MIN).toISOString(),
      },
    ]);
    expect(ev.evaluate(snapshot(healthy, T0 + 11 * MIN)).resolved).toHaveLength(0);
  });

  it('flap damping: a target that bounces DOWN and UP faster than `for` never alerts; FLAPPING is not DOWN', () => {
    const ev = new AlertEvaluator('edge', rules([{ kind: 'target', name: 'Down', for: '3m' }]));
    const healthy = fleet(2);
    for (let round = 0; round < 20; round++) {
      const at = T0 + round * MIN;
      // DOWN for two rounds, UP for one, over and over: each DOWN spell lasts 2 min < 3 min.
      const targets =
        round % 3 === 2 ? healthy : breakWhere(healthy, (_, i) => i === 0, T0 + (round - (round % 3)) * MIN);
      expect(ev.evaluate(snapshot(targets, at)).firing).toHaveLength(0);
    }
    const flapping = breakWhere(healthy, (_, i) => i === 0, T0, 'FLAPPING');
    expect(ev.evaluate(snapshot(flapping, T0 + 60 * MIN)).firing).toHaveLength(0);
  });

  it('a cohort alert names the cohort and its folded ranges, and holds back its members target alerts', () => {
    const ev = new AlertEvaluator(
      'edge',
      rules([
        { kind: 'target', name: 'Down' },
        { kind: 'cohort', name: 'PopDown', label: 'pop', count: 10 },
        { kind: 'certificate', name: 'Cert', days: 10 },
      ]),
    );
    // 12 of waw down (cohort fires), and one of fra (alone: its own target alert).
    const targets = breakWhere(fleet(100, popOf), (_, i) => (i >= 4 && i < 16) || i === 70, T0);
    const { firing } = ev.evaluate(snapshot(targets, T0));
    const cohort = firing.filter((a) => a.kind === 'cohort');
    expect(cohort).toHaveLength(1);
    expect(cohort[0]!.labels).toMatchObject({ alertname: 'PopDown', pop: 'waw' });
    expect(cohort[0]!.annotations).toMatchObject({
      summary: '12 of 50 targets with pop=waw are DOWN (24%)',
      ranges: '127.20.0.[4-15]',
    });
    const targetAlerts = firing.filter((a) => a.kind === 'target');
    expect(targetAlerts).toHaveLength(13);
    expect(targetAlerts.filter((a) => a.inhibitedBy === cohort[0]!.fingerprint)).toHaveLength(12);
    expect(targetAlerts.find((a) => a.labels.target === '127.20.0.70')?.inhibitedBy).toBeNull();
  });

  it('percent and minTargets: one host of one is not a cohort; the fleet alert holds back cohorts and targets', () => {
    const ev = new AlertEvaluator(
      'edge',
      rules([
        { kind: 'target', name: 'Down' },
        { kind: 'cohort', name: 'RackDown', label: 'rack', percent: 50, minTargets: 2 },
        { kind: 'fleet', name: 'FleetDown', percent: 30 },
      ]),
    );
    const targets = fleet(10, (i) => ({ rack: i === 9 ? 'solo' : `r${i % 3}` }));
    const first = ev.evaluate(
      snapshot(
        breakWhere(targets, (_, i) => i === 9, T0),
        T0,
      ),
    ).firing;
    expect(first.map((a) => a.kind)).toEqual(['target']); // rack=solo has 1 target < minTargets

    // r0 = 0,3,6 all down + solo: 4 of 10 = 40% >= 30%.
    const big = breakWhere(targets, (_, i) => i % 3 === 0, T0 + MIN);
    const { firing } = ev.evaluate(snapshot(big, T0 + MIN));
    const fleetAlert = firing.find((a) => a.kind === 'fleet')!;
    expect(fleetAlert.annotations.summary).toBe('4 of 10 targets of monitor edge are DOWN (40%)');
    expect(fleetAlert.inhibitedBy).toBeNull();
    expect(
      firing.filter((a) => a.kind !== 'fleet').every((a) => a.inhibitedBy === fleetAlert.fingerprint),
    ).toBe(true);
    expect(firing.find((a) => a.kind === 'cohort')?.labels.rack).toBe('r0');
  });

  it('a cohort alert with `for` waits from the first round its condition held, and resolves below the threshold', () => {
    const ev = new AlertEvaluator(
      'edge',
      rules([{ kind: 'cohort', name: 'PopDown', label: 'pop', percent: 50, for: '2m' }]),
    );
    const down = breakWhere(fleet(100, popOf), (t) => t.labels.pop === 'waw', T0);
    expect(ev.evaluate(snapshot(down, T0)).firing).toHaveLength(0);
    expect(ev.evaluate(snapshot(down, T0 + MIN)).firing).toHaveLength(0);
    const fired = ev.evaluate(snapshot(down, T0 + 2 * MIN)).firing;
    expect(fired).toHaveLength(1);
    expect(fired[0]!.startsAt).toBe(new Date(T0 + 2 * MIN).toISOString());
    // 24 of 50 down: below 50%.
    const partly = breakWhere(fleet(100, popOf), (_, i) => i < 24, T0);
    expect(ev.evaluate(snapshot(partly, T0 + 3 * MIN)).resolved).toHaveLength(1);
    // The wait starts again.
    expect(ev.evaluate(snapshot(down, T0 + 4 * MIN)).firing).toHaveLength(0);
  });

  it('certificate: fires within N days of validTo, keeps firing when a round gives no certificate, resolves on renewal', () => {
    const ev = new AlertEvaluator(
      'edge',
      rules([{ kind: 'certificate', name: 'CertExpiry', days: 14, severity: 'critical' }]),
    );
    const withCert = (validToMs: number): TargetStatus[] =>
      fleet(1).map((t) => ({
        ...t,
        last: { ...t.last!, data: { cert: { validTo: new Date(validToMs).toISOString(), daysLeft: 0 } } },
      }));
    const DAY = 86_400_000;
    expect(ev.evaluate(snapshot(withCert(T0 + 20 * DAY), T0)).firing).toHaveLength(0);
    const fired = ev.evaluate(snapshot(withCert(T0 + 10 * DAY), T0)).firing;
    expect(fired).toHaveLength(1);
    expect(fired[0]!.annotations.summary).toBe(
      'certificate of 127.20.0.0:80 expires in 10 days (2026-12-10T10:00:00.000Z)',
    );
    const unknown = fleet(1).map((t) => ({ ...t, last: null }));
    expect(ev.evaluate(snapshot(unknown, T0 + MIN)).firing).toHaveLength(1);
    const renewed = ev.evaluate(snapshot(withCert(T0 + 90 * DAY), T0 + 2 * MIN));
    expect(renewed.resolved).toHaveLength(1);
  });

  it('latency: p95 above the threshold for N consecutive rounds, per label value; resolves at the first round below', () => {
    const ev = new AlertEvaluator(
      'edge',
      rules([{ kind: 'latency', name: 'Slow', p95Ms: 100, rounds: 3, by: 'pop' }]),
    );
    const slowWaw = (ms: number) =>
      fleet(100, popOf).map((t) =>
        t.labels.pop === 'waw' ? { ...t, last: { ...t.last!, durationMs: ms } } : t,
      );
    expect(ev.evaluate(snapshot(slowWaw(250), T0)).firing).toHaveLength(0);
    expect(ev.evaluate(snapshot(slowWaw(250), T0 + MIN)).firing).toHaveLength(0);
    // A fast round breaks the streak.
    expect(ev.evaluate(snapshot(slowWaw(50), T0 + 2 * MIN)).firing).toHaveLength(0);
    for (let r = 3; r < 5; r++)
      expect(ev.evaluate(snapshot(slowWaw(250), T0 + r * MIN)).firing).toHaveLength(0);
    const fired = ev.evaluate(snapshot(slowWaw(250), T0 + 5 * MIN)).firing;
    expect(fired).toHaveLength(1);
    expect(fired[0]!.labels.pop).toBe('waw');
    expect(fired[0]!.annotations.summary).toBe('p95 latency of pop=waw is 250 ms > 100 ms for 3 rounds');
    expect(ev.evaluate(snapshot(slowWaw(50), T0 + 6 * MIN)).resolved).toHaveLength(1);
    expect(p95Of([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 100])).toBe(19);
  });

  it('restored alerts continue with their startsAt, and resolve if their cause ended while the process was down', () => {
    const r = rules([{ kind: 'target', name: 'Down' }]);
    const before = new AlertEvaluator('edge', r);
    const down = breakWhere(fleet(3), (_, i) => i < 2, T0);
    const firing = before.evaluate(snapshot(down, T0)).firing;
    const after = new AlertEvaluator('edge', r);
    after.restore(firing);
    const onlyOne = breakWhere(fleet(3), (_, i) => i === 0, T0);
    const ev = after.evaluate(snapshot(onlyOne, T0 + 5 * MIN));
    expect(ev.firing.map((a) => a.startsAt)).toEqual([new Date(T0).toISOString()]);
    expect(ev.resolved.map((a) => a.labels.target)).toEqual(['127.20.0.1']);
  });

  it('rules are validated: a cohort needs percent or count, names are unique, durations parse', () => {
    expect(() => rules([{ kind: 'cohort', name: 'x', label: 'pop' }])).toThrow(/percent or count/);
    expect(() =>
      rules([
        { kind: 'target', name: 'a' },
        { kind: 'fleet', name: 'a', percent: 5 },
      ]),
    ).toThrow(/duplicate rule name/);
    expect(() => rules([{ kind: 'target', name: 'a', for: 'soon' }])).toThrow(/expected a duration/);
    expect(() => rules([{ kind: 'target', name: 'a', bogus: 1 }])).toThrow();
    expect(rules([{ kind: 'target', name: 'a', for: '90s' }])[0]).toMatchObject({
      for: 90_000,
      severity: 'warning',
      labels: {},
    });
  });
});
