import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { ConfigError, ConfigHolder, type FleetprobeConfig } from '../../src/config/index.js';
import { api, startApi, type TestApi } from '../server/helpers.js';

const registry = createBuiltinRegistry();
const monitor = (name: string, interval = '1m') =>
  `  - {name: ${name}, check: tcp, args: {port: 22}, targets: [127.0.0.1], interval: ${interval}}\n`;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleetprobe-holder-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ConfigHolder', () => {
  it('swaps in a valid file, tells the listeners, and summarises what changed', async () => {
    const path = join(dir, 'a.yaml');
    await writeFile(path, `monitors:\n${monitor('a')}${monitor('b')}`);
    const holder = await ConfigHolder.load(path, { registry, now: () => new Date('2026-11-30T10:00:00Z') });
    expect(holder.summary).toMatchObject({
      generation: 1,
      monitors: 2,
      added: ['a', 'b'],
      removed: [],
      changed: [],
    });
    const seen: [FleetprobeConfig, FleetprobeConfig][] = [];
    holder.onChange((next, previous) => seen.push([next, previous]));
    const before = holder.current;

    await writeFile(path, `monitors:\n${monitor('b', '5m')}${monitor('c')}`);
    const summary = await holder.reload();
    expect(summary).toEqual({
      file: path,
      generation: 2,
      loadedAt: '2026-11-30T10:00:00.000Z',
      monitors: 2,
      inventories: 0,
      added: ['c'],
      removed: ['a'],
      changed: ['b'],
    });
    expect(holder.current.monitors.map((m) => [m.name, m.intervalMs])).toEqual([
      ['b', 300_000],
      ['c', 60_000],
    ]);
    expect(seen).toEqual([[holder.current, before]]);
  });

  it('a bad file rejects with its ConfigError and leaves the config and listeners untouched', async () => {
    const path = join(dir, 'b.yaml');
    await writeFile(path, `monitors:\n${monitor('a')}`);
    const holder = await ConfigHolder.load(path, { registry });
    let calls = 0;
    holder.onChange(() => calls++);
    const before = holder.current;
    await writeFile(path, `monitors:\n${monitor('a', 'soon')}`);
    const err = await holder.reload().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toBe(
      `${path}:2:77: monitors[0].interval: expected a duration like 30s or 5m, got "soon"`,
    );
    expect(holder.current).toBe(before);
    expect(holder.summary.generation).toBe(1);
    expect(calls).toBe(0);
    await rm(path);
    await expect(holder.reload()).rejects.toMatchObject({ code: 'FP_CONFIG' });
    expect(holder.current).toBe(before);
  });

  it('reloads run one after the other, in order', async () => {
    const path = join(dir, 'c.yaml');
    await writeFile(path, `monitors:\n${monitor('a')}`);
    const holder = await ConfigHolder.load(path, { registry });
    const [one, two] = await Promise.all([holder.reload(), holder.reload()]);
    expect([one.generation, two.generation]).toEqual([2, 3]);
  });

  it('load throws the ConfigError of a bad file', async () => {
    const path = join(dir, 'd.yaml');
    await writeFile(path, 'monitor: []\n');
    await expect(ConfigHolder.load(path, { registry })).rejects.toMatchObject({
      code: 'FP_CONFIG',
      message: `${path}:1:1: monitor: unknown key "monitor" (expected inventories, monitors, credentials, probeModules, notifiers, silences)`,
    });
  });
});

describe('config routes', () => {
  let server: TestApi;
  let path: string;
  beforeAll(async () => {
    path = join(dir, 'api.yaml');
    await writeFile(path, `monitors:\n${monitor('a')}`);
    const config = await ConfigHolder.load(path, { registry });
    server = await startApi({
      config,
      auth: {
        tokens: [
          { role: 'read', token: 'r' },
          { role: 'operate', token: 'o' },
        ],
      },
    });
  });
  afterAll(() => server.close());

  it('POST /api/v1/config/reload: 200 with the summary, 400 with the error keeping the old config', async () => {
    expect((await api(server.url, 'GET', '/api/v1/config', undefined, 'r')).body).toMatchObject({
      generation: 1,
      monitors: 1,
    });
    await writeFile(path, `monitors:\n${monitor('a')}${monitor('b')}`);
    const ok = await api(server.url, 'POST', '/api/v1/config/reload', undefined, 'o');
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ file: path, generation: 2, monitors: 2, added: ['b'] });

    await writeFile(path, `monitors:\n${monitor('a')}${monitor('a')}`);
    const bad = await api(server.url, 'POST', '/api/v1/config/reload', undefined, 'o');
    expect(bad).toEqual({
      status: 400,
      body: {
        error: 'bad_request',
        message: `${path}:3:12: monitors[1].name: duplicate monitor name "a" (first defined on line 2)`,
      },
    });
    expect((await api(server.url, 'GET', '/api/v1/config', undefined, 'r')).body).toMatchObject({
      generation: 2,
      monitors: 2,
    });
  });

  it('reloading needs the operate role', async () => {
    const res = await api(server.url, 'POST', '/api/v1/config/reload', undefined, 'r');
    expect(res.status).toBe(403);
    expect((await api(server.url, 'GET', '/api/v1/config')).status).toBe(401);
  });
});

describe('probe modules follow a reload', () => {
  it('serves a module added by a reload, and a module the server refuses rejects the reload', async () => {
    const path = join(dir, 'probe.yaml');
    const tcpModule = (name: string, port: number) =>
      `probeModules:\n  ${name}:\n    check: tcp\n    args: { port: ${port} }\n    timeout: 1s\n`;
    await writeFile(path, tcpModule('first', 1));
    const config = await ConfigHolder.load(path, { registry });
    const server = await startApi({
      config,
      allowTargets: ['127.0.0.0/8'],
      auth: { tokens: [{ role: 'operate', token: 'operate-token-0123456789' }] },
    });
    const token = 'operate-token-0123456789';
    const probe = (module: string) =>
      fetch(`${server.url}/probe?module=${module}&target=127.0.0.1`, {
        headers: { authorization: `Bearer ${token}` },
      });
    try {
      expect((await probe('first')).status).toBe(200);
      expect((await probe('second')).status).toBe(400);

      await writeFile(path, tcpModule('second', 2));
      expect((await api(server.url, 'POST', '/api/v1/config/reload', undefined, token)).status).toBe(200);
      expect((await probe('second')).status).toBe(200);
      expect((await probe('first')).status).toBe(400);

      // Valid YAML, but its dns server is outside the allow-list: only the running server can tell.
      await writeFile(
        path,
        'probeModules:\n  outside:\n    check: dns\n    args: { name: a.test, server: 10.0.0.1 }\n',
      );
      const refused = await api(server.url, 'POST', '/api/v1/config/reload', undefined, token);
      expect(refused.status).toBe(400);
      expect(JSON.stringify(refused.body)).toMatch(/probe module outside: args\.server/);
      expect((await probe('second')).status).toBe(200);
      expect(config.summary.generation).toBe(2);
    } finally {
      await server.close();
    }
  });
});
