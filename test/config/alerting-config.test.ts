import { describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { ConfigError, parseConfig } from '../../src/config/index.js';

const registry = createBuiltinRegistry();
const parse = (text: string) =>
  parseConfig(text, { file: 'fleetprobe.yaml', baseDir: '/etc/fleetprobe', registry });

function errorOf(text: string): string {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

const CONFIG = `notifiers:
  - { type: alertmanager, name: am, url: "http://127.0.0.1:9093" }
  - { type: webhook, name: hook, url: "http://127.0.0.1:9/x", secret: "0123456789abcdef", repeatInterval: 2h }
monitors:
  - name: edge
    check: tcp
    args: { port: 443 }
    targets: [127.20.0.0/28]
    interval: 2s
    alerts:
      - { kind: target, name: TargetDown, for: 0 }
      - { kind: cohort, name: PopDown, label: pop, percent: 50, for: 5m, severity: critical }
  - name: quiet
    check: tcp
    args: { port: 22 }
    targets: [127.0.0.1]
    interval: 1m
silences:
  - { monitor: edge, targets: [127.20.0.0/30], endsAt: "2030-01-01T00:00:00Z", comment: rack swap }
`;

describe('config: notifiers, monitor alerts, silences', () => {
  it('parses rules per monitor, notifiers with durations in ms, silences with stable ids', () => {
    const c = parse(CONFIG);
    expect([...c.alertRules.keys()]).toEqual(['edge']);
    const rules = c.alertRules.get('edge')!;
    expect(rules.map((r) => [r.kind, r.name, r.for])).toEqual([
      ['target', 'TargetDown', 0],
      ['cohort', 'PopDown', 300_000],
    ]);
    expect(c.notifiers.map((n) => [n.type, n.name, n.repeatInterval, n.timeout])).toEqual([
      ['alertmanager', 'am', 60_000, 10_000],
      ['webhook', 'hook', 7_200_000, 10_000],
    ]);
    expect(c.silences).toHaveLength(1);
    const s = c.silences[0]!;
    expect(s.id).toMatch(/^config-[0-9a-f]{12}$/);
    expect(s).toMatchObject({ monitor: 'edge', targets: ['127.20.0.0/30'], comment: 'rack swap' });
    expect(s.endsAt).toBe('2030-01-01T00:00:00.000Z');
    expect(parse(CONFIG).silences[0]!.id).toBe(s.id);
  });

  it('names file:line:column of a bad rule, notifier or silence', () => {
    expect(errorOf(CONFIG.replace('percent: 50, for: 5m', 'for: 5m'))).toBe(
      'fleetprobe.yaml:12:9: monitors[0].alerts[1]: a cohort rule needs percent or count (or both: either is enough)',
    );
    expect(errorOf(CONFIG.replace('for: 5m', 'for: soon'))).toMatch(
      /^fleetprobe\.yaml:12:\d+: monitors\[0\]\.alerts\[1\]\.for: expected a duration like 30s or 5m, got "soon"$/,
    );
    expect(errorOf(CONFIG.replace('repeatInterval: 2h', 'repeatInterval: often'))).toMatch(
      /^fleetprobe\.yaml:3:\d+: notifiers\[1\]\.repeatInterval: expected a duration like 30s or 5m, got "often"$/,
    );
    expect(errorOf(CONFIG.replace('secret: "0123456789abcdef"', 'secret: short'))).toMatch(
      /^fleetprobe\.yaml:3:\d+: notifiers\[1\]\.secret: the webhook secret needs at least 16 characters$/,
    );
    expect(errorOf(CONFIG.replace('name: hook', 'name: am'))).toMatch(
      /^fleetprobe\.yaml:3:\d+: notifiers\[1\]\.name: duplicate notifier name "am"$/,
    );
    expect(errorOf(CONFIG.replace('targets: [127.20.0.0/30]', 'targets: [nope/99]'))).toMatch(
      /^fleetprobe\.yaml:19:\d+: silences\[0\]\.targets\[0\]: expected an address, hostname or CIDR block, got "nope\/99"$/,
    );
    expect(errorOf(CONFIG.replace('{ monitor: edge, targets: [127.20.0.0/30], ', '{ '))).toMatch(
      /^fleetprobe\.yaml:19:\d+: silences\[0\]: a silence needs monitor, matchers or targets/,
    );
  });
});
