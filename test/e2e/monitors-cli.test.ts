import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../src/server/start.js';
import { freshDatabase } from '../store/store-fixtures.js';
import { ensureBuilt, runCli } from './cli.js';

/** `fleetprobe monitors` against a server (--server) and against its store (--db). */
let server: RunningServer;
let db: { url: string; drop(): Promise<void> };

beforeAll(async () => {
  ensureBuilt();
  db = await freshDatabase('sqlite');
  server = await startServer({ listen: '127.0.0.1:0', db: db.url, log: pino({ level: 'silent' }) });
}, 60_000);

afterAll(async () => {
  await server?.close({ graceMs: 0 });
  await db?.drop();
});

describe('fleetprobe monitors', () => {
  it('adds, lists, shows, pauses, resumes and removes through --server', async () => {
    const s = ['--server', server.url, '-o', 'json'];
    const add = await runCli([
      'monitors',
      ...s,
      'add',
      'web',
      'tcp',
      '127.0.0.1',
      '-a',
      'port=9',
      '--interval',
      '1h',
      '--label',
      'team=edge',
    ]);
    expect(add.code, add.stderr).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ name: 'web', source: 'api', paused: false });

    const dup = await runCli([
      'monitors',
      ...s,
      'add',
      'web',
      'tcp',
      '127.0.0.1',
      '-a',
      'port=9',
      '--interval',
      '1h',
    ]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/409 monitor "web" already exists/);
    const bad = await runCli([
      'monitors',
      ...s,
      'add',
      'x',
      'tcp',
      '127.0.0.1',
      '-a',
      'port=9',
      '--interval',
      'soon',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('body.interval');

    const paused = await runCli(['monitors', ...s, 'pause', 'web']);
    expect(JSON.parse(paused.stdout)).toMatchObject({ name: 'web', paused: true });
    const list = await runCli(['monitors', ...s, 'list']);
    expect(
      list.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).name),
    ).toEqual(['web']);

    // A round has run (at creation, before the pause): the closed port makes it UNKNOWN after one failure.
    const show = await runCli(['monitors', ...s, 'show', 'web']);
    expect(show.code, show.stderr).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({
      name: 'web',
      paused: true,
      transitions: expect.any(Array),
    });
    const table = await runCli(['monitors', '--server', server.url, '-o', 'table', 'show', 'web']);
    expect(table.stdout).toMatch(/^monitor\s+web \(api\) paused$/m);
    expect(table.stdout).toMatch(/^targets\s+UP \d+\s+DOWN \d+\s+UNKNOWN \d+\s+FLAPPING \d+$/m);

    expect(JSON.parse((await runCli(['monitors', ...s, 'resume', 'web'])).stdout).paused).toBe(false);
    expect((await runCli(['monitors', ...s, 'rm', 'web'])).code).toBe(0);
    const gone = await runCli(['monitors', ...s, 'show', 'web']);
    expect(gone.code).toBe(2);
    expect(gone.stderr).toContain('404');
  }, 180_000);

  it('adds and lists through --db (a stopped server sees it at its next start)', async () => {
    const d = await freshDatabase('sqlite');
    try {
      const add = await runCli([
        'monitors',
        '--db',
        d.url,
        '-o',
        'json',
        'add',
        'db1',
        'tcp',
        '127.0.0.0/30',
        '-a',
        'port=9',
        '--interval',
        '5m',
      ]);
      expect(add.code, add.stderr).toBe(0);
      const bad = await runCli([
        'monitors',
        '--db',
        d.url,
        'add',
        'db2',
        'tcp',
        '300.0.0.1',
        '-a',
        'port=9',
        '--interval',
        '5m',
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('targets[0]');
      const list = await runCli(['monitors', '--db', d.url, '-o', 'json', 'list']);
      expect(JSON.parse(list.stdout)).toMatchObject({ name: 'db1', source: 'api', intervalMs: 300_000 });
      const srv = await startServer({ listen: '127.0.0.1:0', db: d.url, log: pino({ level: 'silent' }) });
      try {
        expect(srv.monitors.get('db1')).toMatchObject({ name: 'db1', source: 'api' });
      } finally {
        await srv.close({ graceMs: 0 });
      }
    } finally {
      await d.drop();
    }
  }, 180_000);
});
