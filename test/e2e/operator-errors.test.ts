import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, lines, runCli } from './cli.js';

/** Exit 2, exactly one line on stderr naming the problem, no stack trace, not "internal error", nothing on stdout. */
function expectOneLine(r: { code: number | null; stdout: string; stderr: string }, names: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const err = lines(r.stderr);
  expect(err).toHaveLength(1);
  expect(err[0]).toMatch(names);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
}

let dir: string;
let busy: net.Server;
let busyPort: number;
/** A loopback port nothing listens on: connections are refused at once. */
let refusedPort: number;

beforeAll(async () => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fp-operr-'));
  busy = net.createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  busyPort = (busy.address() as net.AddressInfo).port;
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  refusedPort = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
afterAll(async () => {
  await new Promise<void>((resolve) => busy?.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('operator-facing errors: one line naming the problem, exit 2', () => {
  const missing = '/nonexistent/fp-dir/x.db';
  const unreachablePg = () => `postgres://fp:secret@127.0.0.1:${refusedPort}/x`;

  it('run --db with a SQLite path in a folder that does not exist', async () => {
    const r = await runCli(['run', 'tcp', '127.0.0.1', '-a', 'port=1', '--db', missing, '-o', 'jsonl']);
    expectOneLine(r, /cannot open the store "\/nonexistent\/fp-dir\/x\.db"/);
  });

  it('run --db with an unreachable PostgreSQL (the password is not shown)', async () => {
    const r = await runCli([
      'run',
      'tcp',
      '127.0.0.1',
      '-a',
      'port=1',
      '--db',
      unreachablePg(),
      '-o',
      'jsonl',
    ]);
    expectOneLine(r, new RegExp(`cannot open the store .*127\\.0\\.0\\.1:${refusedPort}.*ECONNREFUSED`));
    expect(r.stderr).not.toContain('secret');
  });

  it('runs list --db with a bad path and with an unreachable PostgreSQL', async () => {
    expectOneLine(await runCli(['runs', 'list', '--db', missing]), /cannot open the store/);
    expectOneLine(await runCli(['runs', 'list', '--db', unreachablePg()]), /cannot open the store/);
  });

  it('server with a bad store, and on a port already in use', async () => {
    expectOneLine(
      await runCli(['server', '--db', missing, '--listen', '127.0.0.1:0']),
      /cannot open the store/,
    );
    const r = await runCli(['server', '--db', join(dir, 'server.db'), '--listen', `127.0.0.1:${busyPort}`]);
    expectOneLine(
      r,
      new RegExp(`cannot listen on 127\\.0\\.0\\.1:${busyPort}: the address is already in use`),
    );
  });

  it('a 50 MB bad line in a targets file is cut in the message', async () => {
    const file = join(dir, 'huge.txt');
    writeFileSync(file, `127.0.0.1\n${'x'.repeat(50 * 1024 * 1024)}!\n`);
    const r = await runCli(['run', 'tcp', '-f', file, '-a', 'port=1', '-o', 'jsonl']);
    expectOneLine(r, /huge\.txt:2: .*x…/);
    expect(r.stderr.length).toBeLessThan(600);
  });
});
