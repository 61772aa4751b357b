import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { ConfigError, loadConfig, parseConfig } from '../../src/config/index.js';

const registry = createBuiltinRegistry();
const parse = (text: string) =>
  parseConfig(text, { file: 'fleetprobe.yaml', baseDir: '/etc/fleetprobe', registry });

/** The one-line message of the ConfigError `text` raises. */
function errorOf(text: string): string {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('FP_CONFIG');
    return (err as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

const FULL = `# a full example
monitors:
  - name: edge-http
    check: http
    args: { port: 8080, path: /health, expectStatus: 2xx }
    inventory: edge
    interval: 30s
    timeout: 2s
    concurrency: 500
    labels: { team: cdn, tier: 1 }
    downAfter: 3
    upAfter: 2
    flapHighPct: 50
    flapLowPct: 25
  - name: lb-dns
    check: tcp
    args: { port: 443 }
    targets: [127.0.0.1, "10.1.0.0/30", "[::1]:8443"]
    interval: 5m
    paused: true
inventories:
  edge:
    targets: [10.0.0.0/24, "web.example:8080"]
    files: [edge.txt, /srv/more.csv]
    labels: { pop: waw }
  lbs:
    dns: [lb.example.com]
    resolver: 127.0.0.1:5353
  web:
    ansible: ansible/hosts.ini
    groups: [web, edge]
    ignorePorts: true
  jump:
    sshConfig: ssh_config
credentials:
  sshIdentities: { deploy: keys/id_ed25519 }
  knownHosts: { fleet: /etc/ssh/known_hosts }
  caBundles: { internal: ca.pem }
  checkModules: { disk: checks/disk.ts }
`;

describe('parseConfig', () => {
  it('turns a full file into frozen MonitorSpecs, inventory specs and credentials', () => {
    const config = parse(FULL);
    expect(config.monitors).toEqual([
      {
        name: 'edge-http',
        check: 'http',
        args: { port: 8080, path: '/health', expectStatus: '2xx' },
        inventory: 'edge',
        intervalMs: 30_000,
        timeoutMs: 2000,
        concurrency: 500,
        labels: { team: 'cdn', tier: '1' },
        downAfter: 3,
        upAfter: 2,
        paused: false,
        flapHighPct: 50,
        flapLowPct: 25,
        source: 'config',
      },
      {
        name: 'lb-dns',
        check: 'tcp',
        args: { port: 443 },
        inventory: { targets: ['127.0.0.1', '10.1.0.0/30', '[::1]:8443'] },
        intervalMs: 300_000,
        timeoutMs: undefined,
        concurrency: undefined,
        labels: {},
        downAfter: 2,
        upAfter: 1,
        paused: true,
        flapHighPct: undefined,
        flapLowPct: undefined,
        source: 'config',
      },
    ]);
    expect(Object.isFrozen(config.monitors[0])).toBe(true);
    expect(Object.fromEntries(config.inventories)).toEqual({
      edge: {
        kind: 'targets',
        name: 'edge',
        targets: ['10.0.0.0/24', 'web.example:8080'],
        files: ['/etc/fleetprobe/edge.txt', '/srv/more.csv'],
        labels: { pop: 'waw' },
      },
      lbs: { kind: 'dns', name: 'lbs', names: ['lb.example.com'], resolver: '127.0.0.1:5353', labels: {} },
      web: {
        kind: 'ansible',
        name: 'web',
        file: '/etc/fleetprobe/ansible/hosts.ini',
        format: undefined,
        groups: ['web', 'edge'],
        hostVars: undefined,
        ignorePorts: true,
        labels: {},
      },
      jump: {
        kind: 'sshConfig',
        name: 'jump',
        file: '/etc/fleetprobe/ssh_config',
        ignorePorts: false,
        labels: {},
      },
    });
    expect(config.credentials).toEqual({
      sshIdentities: { deploy: '/etc/fleetprobe/keys/id_ed25519' },
      knownHosts: { fleet: '/etc/ssh/known_hosts' },
      caBundles: { internal: '/etc/fleetprobe/ca.pem' },
      checkModules: { disk: '/etc/fleetprobe/checks/disk.ts' },
    });
  });

  it('takes monitors as a map keyed by name, and an empty file as an empty config', () => {
    const config = parse(
      'monitors:\n  ping:\n    check: tcp\n    args: {port: 22}\n    targets: [127.0.0.1]\n    interval: 1m\n',
    );
    expect(config.monitors.map((m) => [m.name, m.intervalMs])).toEqual([['ping', 60_000]]);
    expect(parse('').monitors).toEqual([]);
    expect(parse('# nothing yet\n').inventories.size).toBe(0);
  });

  it.each([
    // syntax
    [
      'monitors: [1\nfoo: 2\n',
      'fleetprobe.yaml:2:1: flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    ['monitors: {}\nmonitors: {}\n', 'fleetprobe.yaml:2:1: map keys must be unique'],
    // shapes and unknown keys
    ['- 1\n', 'fleetprobe.yaml:1:1: expected a map with monitors, inventories and credentials'],
    [
      'monitors: []\nalerts: {}\n',
      'fleetprobe.yaml:2:1: alerts: unknown key "alerts" (expected inventories, monitors, credentials, probeModules, notifiers, silences)',
    ],
    [
      'monitors:\n  - name: a\n    check: tcp\n    targets: [127.0.0.1]\n    interval: 1m\n    intervall: 2m\n',
      'fleetprobe.yaml:6:5: monitors[0].intervall: unknown key "intervall" (expected name, check, args, inventory, targets, interval, timeout, concurrency, labels, downAfter, upAfter, paused, flapHighPct, flapLowPct, alerts)',
    ],
    [
      'monitors: 3\n',
      'fleetprobe.yaml:1:11: monitors: expected a list of monitors or a map of monitor names to monitors',
    ],
    // fields
    [
      'monitors:\n  - name: a\n    check: tcp\n    targets: [127.0.0.1]\n    interval: fast\n',
      'fleetprobe.yaml:5:15: monitors[0].interval: expected a duration like 30s or 5m, got "fast"',
    ],
    [
      'monitors:\n  - name: a\n    check: tcp\n    targets: [127.0.0.1]\n',
      'fleetprobe.yaml:2:5: monitors[0].interval: required',
    ],
    [
      'monitors:\n  - name: a\n    check: tcp\n    targets: [127.0.0.1]\n    interval: 1m\n    downAfter: 0\n',
      'fleetprobe.yaml:6:16: monitors[0].downAfter: too small: expected number to be >=1',
    ],
    [
      'monitors:\n  - name: a\n    check: tcp\n    targets: [127.0.0.1]\n    interval: 1m\n    paused: "no"\n',
      'fleetprobe.yaml:6:13: monitors[0].paused: expected boolean, got "no"',
    ],
    [
      'monitors:\n  - name: "a b"\n    check: tcp\n    targets: [127.0.0.1]\n    interval: 1m\n',
      'fleetprobe.yaml:2:11: monitors[0].name: expected a name of letters, digits, _ . - (1..128), got "a b"',
    ],
    [
      'monitors:\n  - name: a\n    check: tcp\n    targets: [127.0.0.1]\n    interval: 1m\n    labels: {"bad key": x}\n',
      'fleetprobe.yaml:6:14: monitors[0].labels["bad key"]: bad label key "bad key" (letters, digits, _ - . / only)',
    ],
    [
      'monitors:\n  - name: a\n    check: tcp\n    targets: [127.0.0.1, 10.0.0.300]\n    interval: 1m\n',
      'fleetprobe.yaml:4:26: monitors[0].targets[1]: "10.0.0.300" is not a valid IPv4 address',
    ],
    [
      'monitors:\n  - name: a\n    check: tcp\n    targets: [127.0.0.1]\n    interval: 1m\n    flapHighPct: 30\n    flapLowPct: 60\n',
      'fleetprobe.yaml:7:17: monitors[0].flapLowPct: must be at most flapHighPct (30), got 60',
    ],
    // semantics
    [
      'monitors:\n  - name: a\n    check: htp\n    targets: [127.0.0.1]\n    interval: 1m\n',
      'fleetprobe.yaml:3:12: monitors[0].check: unknown check "htp" (available: dns, http, ssh, tcp)',
    ],
    [
      'monitors:\n  - name: a\n    check: tcp\n    args: {prot: 80}\n    targets: [127.0.0.1]\n    interval: 1m\n',
      'fleetprobe.yaml:4:12: monitors[0].args.prot: check "tcp" has no argument "prot" (known: port, send, expectBanner, maxBannerBytes)',
    ],
    [
      'monitors:\n  - name: a\n    check: tcp\n    inventory: edge\n    interval: 1m\n',
      'fleetprobe.yaml:4:16: monitors[0].inventory: unknown inventory "edge" (no inventories are defined)',
    ],
    [
      'monitors:\n  - name: a\n    check: tcp\n    interval: 1m\n',
      'fleetprobe.yaml:2:5: monitors[0]: expected inventory (a name from inventories) or targets (a list of targets)',
    ],
    [
      'monitors:\n  - {name: a, check: tcp, targets: [127.0.0.1], interval: 1m}\n  - {name: a, check: tcp, targets: [127.0.0.2], interval: 1m}\n',
      'fleetprobe.yaml:3:12: monitors[1].name: duplicate monitor name "a" (first defined on line 2)',
    ],
    // inventories
    [
      'inventories:\n  a: {}\n',
      'fleetprobe.yaml:2:6: inventories.a: expected one of targets/files, dns, ansible, sshConfig',
    ],
    [
      'inventories:\n  a: {dns: [x.example], ansible: hosts}\n',
      'fleetprobe.yaml:2:6: inventories.a: has more than one source (dns, ansible): use one inventory per source',
    ],
    [
      'inventories:\n  a:\n    dns: [x.example]\n    resolver: nope\n',
      'fleetprobe.yaml:4:15: inventories.a.resolver: bad DNS server "nope": "nope" is not an IP address (expected IP, IP:PORT or [IPv6]:PORT)',
    ],
    [
      'inventories:\n  a:\n    ansible: hosts\n    format: toml\n',
      'fleetprobe.yaml:4:13: inventories.a.format: expected one of "ini", "yaml", "json", got "toml"',
    ],
    [
      'credentials:\n  sshKeys: {a: b}\n',
      'fleetprobe.yaml:2:3: credentials.sshKeys: unknown key "sshKeys" (expected sshIdentities, knownHosts, caBundles, checkModules)',
    ],
  ])('%j -> %s', (text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it('reports every problem, the first in document order in the message', () => {
    const text =
      'inventories:\n  b: {}\nmonitors:\n  - {name: a, check: tcp, targets: [127.0.0.1], interval: soon}\nx: 1\n';
    let error: ConfigError | undefined;
    try {
      parse(text);
    } catch (err) {
      error = err as ConfigError;
    }
    expect(error?.message).toBe(
      'fleetprobe.yaml:2:6: inventories.b: expected one of targets/files, dns, ansible, sshConfig (and 2 more)',
    );
    expect(error?.problems.map((p) => [p.line, p.path])).toEqual([
      [2, 'inventories.b'],
      [4, 'monitors[0].interval'],
      [5, 'x'],
    ]);
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetprobe-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('resolves relative paths against the file directory', async () => {
    await mkdir(join(dir, 'sub'));
    const file = join(dir, 'sub', 'fleetprobe.yaml');
    await writeFile(file, 'inventories:\n  jump: {sshConfig: ./ssh_config}\n');
    const config = await loadConfig(file, { registry });
    expect(config.inventories.get('jump')).toMatchObject({ file: join(dir, 'sub', 'ssh_config') });
  });

  it('a missing file or a directory is a ConfigError naming the file', async () => {
    const missing = join(dir, 'nope.yaml');
    await expect(loadConfig(missing, { registry })).rejects.toMatchObject({
      code: 'FP_CONFIG',
      message: expect.stringMatching(new RegExp(`^${missing}: cannot open: ENOENT`)),
    });
    await expect(loadConfig(dir, { registry })).rejects.toMatchObject({
      code: 'FP_CONFIG',
      message: `${dir}: not a regular file`,
    });
  });
});

describe('probeModules', () => {
  it('are parsed with their timeouts; a bad one is an error naming its place', () => {
    const config = parse(
      'probeModules:\n  http_2xx:\n    check: http\n    args: { expectStatus: 2xx }\n    timeout: 5s\n',
    );
    expect(config.probeModules).toEqual({
      http_2xx: { check: 'http', args: { expectStatus: '2xx' }, timeout: 5000 },
    });
    expect(parse('').probeModules).toEqual({});
    expect(errorOf('probeModules:\n  x:\n    check: http\n    timeout: soon\n')).toMatch(
      /fleetprobe\.yaml:4:\d+: probeModules\.x\.timeout: /,
    );
  });
});

describe('the README example', () => {
  it('is a valid config file', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### Configuration file'));
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
    const config = parse(yaml);
    expect(config.monitors.map((m) => m.name)).toEqual(['edge-http', 'bastion-ssh', 'lb-tcp']);
    expect(Object.keys(config.probeModules)).toEqual(['http_2xx']);
    expect([...config.inventories.values()].map((i) => i.kind)).toEqual([
      'targets',
      'dns',
      'ansible',
      'sshConfig',
    ]);
  });
});
