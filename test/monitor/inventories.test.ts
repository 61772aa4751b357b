import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetParseError } from '../../src/core/errors.js';
import { closeSharedDnsClient } from '../../src/dns/index.js';
import {
  type AnsibleInventorySpec,
  createInventory,
  type InventoryDeps,
  type InventorySpec,
  inventoryOf,
} from '../../src/monitor/inventories/index.js';
import type { Inventory } from '../../src/monitor/types.js';
import { makeResolver } from '../../src/targets/make-resolver.js';
import type { Target } from '../../src/targets/target.js';

const deps: InventoryDeps = { resolverFor: makeResolver };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetprobe-inventories-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await closeSharedDnsClient();
});

async function collect(inventory: Inventory, signal = AbortSignal_()): Promise<Target[]> {
  const out: Target[] = [];
  for await (const t of inventory.targets(signal)) out.push(t);
  return out;
}
function AbortSignal_(): AbortSignal {
  return new AbortController().signal;
}
async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}
async function failure(inventory: Inventory): Promise<TargetParseError> {
  try {
    await collect(inventory);
  } catch (err) {
    expect(err).toBeInstanceOf(TargetParseError);
    return err as TargetParseError;
  }
  throw new Error('expected a TargetParseError');
}
const NO_LABELS = Object.freeze({});

describe('targets inventory', () => {
  it('streams specs then files, inventory labels under the targets own, and follows a changed file', async () => {
    const hosts = await file('hosts.txt', '127.0.0.1\n127.0.0.2:8080 role=db\n');
    const spec: InventorySpec = {
      kind: 'targets',
      name: 'edge',
      targets: ['127.1.0.0/31'],
      files: [hosts],
      labels: { pop: 'waw', role: 'edge' },
    };
    const inventory = createInventory(spec, deps);
    expect(inventory.name).toBe('edge');
    expect(await collect(inventory)).toEqual([
      { address: '127.1.0.0', labels: { pop: 'waw', role: 'edge' } },
      { address: '127.1.0.1', labels: { pop: 'waw', role: 'edge' } },
      { address: '127.0.0.1', labels: { pop: 'waw', role: 'edge' } },
      { address: '127.0.0.2', port: 8080, labels: { pop: 'waw', role: 'db' } },
    ]);
    await writeFile(hosts, '127.0.0.9\n');
    expect((await collect(inventory)).map((t) => t.address)).toEqual(['127.1.0.0', '127.1.0.1', '127.0.0.9']);
  });

  it('a bad line fails the call before any target, naming file:line', async () => {
    const hosts = await file('bad-hosts.txt', '127.0.0.1\n# fine\nnot a host!\n');
    const inventory = createInventory(
      { kind: 'targets', name: 'x', targets: ['127.0.0.5'], files: [hosts], labels: NO_LABELS },
      deps,
    );
    const seen: Target[] = [];
    const err = await (async () => {
      try {
        for await (const t of inventory.targets(AbortSignal_())) seen.push(t);
      } catch (e) {
        return e as TargetParseError;
      }
    })();
    expect(err?.where).toBe(`${hosts}:3`);
    expect(seen).toEqual([]);
  });

  it('a monitor with inline targets gets an inventory named inline', async () => {
    const inventory = inventoryOf({ inventory: { targets: ['127.0.0.1:22'] } }, new Map(), deps);
    expect(inventory.name).toBe('inline');
    expect(await collect(inventory)).toEqual([{ address: '127.0.0.1', port: 22, labels: {} }]);
  });

  it('aborting rejects with the signal reason', async () => {
    const inventory = createInventory(
      { kind: 'targets', name: 'x', targets: ['127.2.0.0/16'], files: [], labels: NO_LABELS },
      deps,
    );
    const controller = new AbortController();
    const reason = new Error('stop');
    let n = 0;
    await expect(
      (async () => {
        for await (const _ of inventory.targets(controller.signal)) if (++n === 10) controller.abort(reason);
      })(),
    ).rejects.toBe(reason);
    expect(n).toBe(10);
  });
});

describe('dns inventory', () => {
  let server: dgram.Socket;
  let port: number;
  let answers: string[] = ['127.3.0.1'];
  beforeAll(async () => {
    server = dgram.createSocket('udp4');
    server.on('message', (msg, rinfo) => {
      const query = packet.decode(msg);
      const q = query.questions?.[0];
      const data = q?.type === 'A' && q.name === 'lb.fleet.test' ? answers : [];
      const reply = packet.encode({
        type: 'response',
        id: query.id,
        flags: packet.AUTHORITATIVE_ANSWER,
        questions: query.questions,
        answers: data.map((a) => ({ name: q?.name ?? '', type: 'A' as const, ttl: 1, data: a })),
      });
      server.send(reply, rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    port = server.address().port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('resolves the names through the chosen resolver on every call', async () => {
    const inventory = createInventory(
      {
        kind: 'dns',
        name: 'lbs',
        names: ['lb.fleet.test'],
        resolver: `127.0.0.1:${port}`,
        labels: { tier: 'lb' },
      },
      deps,
    );
    expect(await collect(inventory)).toEqual([
      { address: '127.3.0.1', name: 'lb.fleet.test', labels: { tier: 'lb' } },
    ]);
    answers = ['127.3.0.2', '127.3.0.3'];
    expect((await collect(inventory)).map((t) => t.address)).toEqual(['127.3.0.2', '127.3.0.3']);
  });

  it('a name without records fails the call, naming it', async () => {
    const inventory = createInventory(
      {
        kind: 'dns',
        name: 'lbs',
        names: ['gone.fleet.test'],
        resolver: `127.0.0.1:${port}`,
        labels: NO_LABELS,
      },
      deps,
    );
    expect((await failure(inventory)).where).toBe('--resolve gone.fleet.test');
  });

  it('without a resolver, the system resolver (/etc/hosts) answers', async () => {
    const inventory = createInventory(
      { kind: 'dns', name: 'local', names: ['localhost'], labels: NO_LABELS },
      deps,
    );
    expect((await collect(inventory)).map((t) => t.address)).toContain('127.0.0.1');
  });
});

const ansible = (file: string, more: Partial<AnsibleInventorySpec> = {}): Inventory =>
  createInventory(
    { kind: 'ansible', name: 'web', file, groups: [], ignorePorts: false, labels: NO_LABELS, ...more },
    deps,
  );

const INI = `# production
bastion.fleet.test ansible_host=127.0.0.50

[web]
web[01:03].fleet.test ansible_host=127.0.1.1
web04.fleet.test:2222 ansible_host=127.0.1.4 rack="r 7"
[web:vars]
http_port=8080
ansible_user=deploy
ansible_password=hunter2

[edge]
127.0.2.1 rack=e1

[cdn:children]
web
edge

[cdn:vars]
rack=default
region=eu
`;

describe('ansible inventory', () => {
  it('INI: groups with children, ranges, host:port, vars by precedence as labels, secrets left out', async () => {
    const path = await file('hosts', INI);
    const targets = await collect(ansible(path, { groups: ['cdn'] }));
    expect(targets.map((t) => [t.address, t.name, t.port])).toEqual([
      ['127.0.1.1', 'web01.fleet.test', undefined],
      ['127.0.1.1', 'web02.fleet.test', undefined],
      ['127.0.1.1', 'web03.fleet.test', undefined],
      ['127.0.1.4', 'web04.fleet.test', 2222],
      ['127.0.2.1', undefined, undefined],
    ]);
    expect(targets[0]?.labels).toEqual({
      http_port: '8080',
      rack: 'default',
      region: 'eu',
      inventory_hostname: 'web01.fleet.test',
      ansible_group: 'web',
    });
    expect(targets[3]?.labels).toMatchObject({ rack: 'r 7', ansible_group: 'web' });
    expect(targets[4]?.labels).toEqual({
      rack: 'e1',
      region: 'eu',
      inventory_hostname: '127.0.2.1',
      ansible_group: 'edge',
    });
    // No selection: every host, the ungrouped one included.
    const all = await collect(ansible(path));
    expect(all.map((t) => t.labels.inventory_hostname)).toEqual([
      'bastion.fleet.test',
      'web01.fleet.test',
      'web02.fleet.test',
      'web03.fleet.test',
      'web04.fleet.test',
      '127.0.2.1',
    ]);
    expect(all[0]?.labels.ansible_group).toBe('ungrouped');
  });

  it('ignorePorts drops ansible_port; hostVars picks the labels', async () => {
    const path = await file('hosts-ports.ini', '[web]\n127.0.0.1 ansible_port=2222 rack=a env=prod\n');
    const [target] = await collect(
      ansible(path, { ignorePorts: true, hostVars: ['env'], labels: { team: 'x' } }),
    );
    expect(target).toEqual({
      address: '127.0.0.1',
      labels: { team: 'x', env: 'prod', inventory_hostname: '127.0.0.1', ansible_group: 'web' },
    });
  });

  it('YAML: the same model; a file changed between calls is followed', async () => {
    const path = await file(
      'inventory.yml',
      `all:
  hosts:
    bastion.fleet.test: { ansible_host: 127.0.0.50 }
  vars: { region: eu }
  children:
    web:
      hosts:
        web[1:2].fleet.test: { ansible_host: 127.0.1.1 }
      vars: { http_port: 8080, nested: { not: scalar } }
    edge:
      hosts:
        127.0.2.1:
      children:
        web:
`,
    );
    const inventory = ansible(path, { groups: ['edge'] });
    const targets = await collect(inventory);
    expect(targets.map((t) => t.labels.inventory_hostname)).toEqual([
      'web1.fleet.test',
      'web2.fleet.test',
      '127.0.2.1',
    ]);
    expect(targets[0]?.labels).toEqual({
      region: 'eu',
      http_port: '8080',
      inventory_hostname: 'web1.fleet.test',
      ansible_group: 'web',
    });
    await writeFile(path, 'all:\n  children:\n    edge:\n      hosts:\n        127.0.2.9:\n');
    expect((await collect(inventory)).map((t) => t.address)).toEqual(['127.0.2.9']);
  });

  it('JSON of ansible-inventory --list', async () => {
    const path = await file(
      'inventory.json',
      JSON.stringify({
        _meta: {
          hostvars: { 'web1.fleet.test': { ansible_host: '127.0.1.1', ansible_port: 22, pop: 'waw' } },
        },
        all: { children: ['ungrouped', 'web'] },
        web: { hosts: ['web1.fleet.test'], vars: { role: 'web' } },
        ungrouped: { hosts: ['127.0.0.7'] },
      }),
    );
    expect(await collect(ansible(path, { groups: ['web'] }))).toEqual([
      {
        address: '127.0.1.1',
        name: 'web1.fleet.test',
        port: 22,
        labels: { role: 'web', pop: 'waw', inventory_hostname: 'web1.fleet.test', ansible_group: 'web' },
      },
    ]);
  });

  it('bad files name file:line (INI) or file:line:column (YAML, JSON)', async () => {
    const ini = await file('bad.ini', '[web]\n127.0.0.1\n127.0.0.2 ansible_port=http\n');
    let err = await failure(ansible(ini));
    expect(err.message).toBe(`${ini}:3: ansible_port: "http" is not a port (1..65535)`);
    const header = await file('bad-header.ini', '[web\n');
    expect((await failure(ansible(header))).where).toBe(`${header}:1`);
    const yml = await file('bad.yaml', 'all:\n  hosts:\n    a.test: {ansible_port: 99999}\n');
    err = await failure(ansible(yml));
    expect(err.message).toBe(`${yml}:3:28: ansible_port: 99999 is not a port (1..65535)`);
    const syntax = await file('syntax.yaml', 'all:\n  hosts: [a\n b: 1\n');
    expect((await failure(ansible(syntax))).where).toMatch(new RegExp(`^${syntax}:\\d+:\\d+$`));
    const json = await file('bad.json', '{\n  "web": {\n    "hosts": ["a.test"],\n    "host": []\n  }\n}\n');
    err = await failure(ansible(json));
    expect(err.message).toBe(
      `${json}:4:5: group "web": unknown key "host" (expected hosts, vars or children)`,
    );
    const broken = await file('broken.json', '{\n  "web": {"hosts": [}\n}\n');
    expect((await failure(ansible(broken))).where).toMatch(new RegExp(`^${broken}:2:\\d+$`));
    const unknownGroup = await file('ok.ini', '[web]\n127.0.0.1\n');
    expect((await failure(ansible(unknownGroup, { groups: ['db'] }))).message).toBe(
      `${unknownGroup}: no group "db" in the inventory`,
    );
    const missing = join(dir, 'missing.ini');
    expect((await failure(ansible(missing))).message).toMatch(new RegExp(`^${missing}: cannot open: ENOENT`));
  });
});

describe('sshConfig inventory', () => {
  const ssh = (file: string, ignorePorts = false): Inventory =>
    createInventory({ kind: 'sshConfig', name: 'jump', file, ignorePorts, labels: NO_LABELS }, deps);

  it('concrete Host aliases, HostName and Port as ssh applies them, wildcards skipped', async () => {
    const path = await file(
      'ssh_config',
      `# user config
Host bastion
    HostName 127.0.0.50
    Port 2200

Host web1 web2
    HostName %h.fleet.test

Host db-* !db-old
    Port 5432

Host db-main db-old
    HostName=127.0.3.1

Match host web1
    Port 9999

Host *
    Port 22
    User deploy
`,
    );
    expect(await collect(ssh(path))).toEqual([
      { address: '127.0.0.50', name: 'bastion', port: 2200, labels: { ssh_host: 'bastion' } },
      { name: 'web1.fleet.test', port: 22, labels: { ssh_host: 'web1' } },
      { name: 'web2.fleet.test', port: 22, labels: { ssh_host: 'web2' } },
      { address: '127.0.3.1', name: 'db-main', port: 5432, labels: { ssh_host: 'db-main' } },
      { address: '127.0.3.1', name: 'db-old', port: 22, labels: { ssh_host: 'db-old' } },
    ]);
    expect((await collect(ssh(path, true))).map((t) => t.port)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    await writeFile(path, 'Host only\n  HostName 127.0.0.9\n');
    expect(await collect(ssh(path))).toEqual([
      { address: '127.0.0.9', name: 'only', labels: { ssh_host: 'only' } },
    ]);
  });

  it('a bad Port or HostName names file:line', async () => {
    const port = await file('ssh_bad_port', 'Host a\n  HostName 127.0.0.1\n  Port ssh\n');
    expect((await failure(ssh(port))).message).toBe(`${port}:3: Port "ssh" is not a port (1..65535)`);
    const name = await file('ssh_bad_name', 'Host a\n  HostName not_a_host!\n');
    expect((await failure(ssh(name))).message).toBe(
      `${name}:2: "not_a_host!" is neither an IP address nor a hostname`,
    );
  });
});
