import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CountingListener, countingListener } from '../helpers/counting-listener.js';
import { ensureBuilt, jsonLines, lines, runCli } from './cli.js';

let listener: CountingListener;
let dir: string;

beforeAll(async () => {
  ensureBuilt();
  listener = await countingListener('0.0.0.0'); // every 127.x.y.z reaches it
  dir = await mkdtemp(path.join(os.tmpdir(), 'fp-e2e-exit-'));
});

afterAll(async () => {
  await listener?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A valid target that reaches the listener, so anything run by mistake would be counted. */
const live = () => `127.0.0.1:${listener.port}`;

describe('bad usage or input: exit 2, one line on stderr, nothing on stdout, nothing run', () => {
  const cases: [string, () => Promise<string[]>][] = [
    ['unknown check', async () => ['run', 'nosuchcheck', live()]],
    ['-c 0', async () => ['run', 'tcp', live(), '-c', '0']],
    ['-t abc', async () => ['run', 'tcp', live(), '-t', 'abc']],
    ['--rate -1', async () => ['run', 'tcp', live(), '--rate', '-1']],
    ['-o xml', async () => ['run', 'tcp', live(), '-o', 'xml']],
    ['an unknown option', async () => ['run', 'tcp', live(), '--no-such-option']],
    ['bad target 10.0.0.300', async () => ['run', 'tcp', live(), '10.0.0.300']],
    ['-a port=abc', async () => ['run', 'tcp', live(), '-a', 'port=abc']],
    ['unknown check argument', async () => ['run', 'tcp', live(), '-a', 'nosuch=1']],
    ['--args-json that is not JSON', async () => ['run', 'tcp', live(), '--args-json', '{port:']],
    ['no targets', async () => ['run', 'tcp']],
    ['server --nats-prefix with a dash', async () => ['server', '--nats-prefix', 'fleet-probe']],
    [
      'worker --nats-prefix upper case',
      async () => ['worker', '--nats', 'nats://127.0.0.1:1', '--nats-prefix', 'FP'],
    ],
    ['server --max-sse 0', async () => ['server', '--max-sse', '0']],
    ['token new --role admin', async () => ['token', 'new', '--role', 'admin']],
    [
      'a targets file with a bad line 3',
      async () => {
        const file = path.join(dir, 'file.txt');
        await writeFile(file, `${live()}\n# a comment\n127.0.0.999\n${live()}\n`);
        return ['run', 'tcp', '-f', file];
      },
    ],
  ];

  it.concurrent.each(cases)(
    '%s',
    async (_name, makeArgs) => {
      const args = await makeArgs();
      const before = listener.accepted();
      const r = await runCli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr.startsWith('fleetprobe: ')).toBe(true);
      if (args.includes('-f')) expect(r.stderr).toContain('file.txt:3');
      // Cases run concurrently, so compare the total: no case may have connected at all.
      expect(listener.accepted()).toBe(before);
      expect(listener.accepted()).toBe(0);
    },
    60_000,
  );
});

it('a short API token in FLEETPROBE_TOKENS: exit 2 naming the variable, the token not echoed', async () => {
  const r = await runCli(['server', '--listen', '127.0.0.1:0', '--db', path.join(dir, 'never.db')], {
    env: { FLEETPROBE_TOKENS: 'operate:hunter2hunter' },
  });
  expect(r.code).toBe(2);
  expect(lines(r.stderr)).toHaveLength(1);
  expect(r.stderr).toContain('FLEETPROBE_TOKENS: entry 1');
  expect(r.stderr).not.toContain('hunter2hunter');
});

it('token new prints a fresh 43-character base64url token', async () => {
  const a = await runCli(['token', 'new']);
  const b = await runCli(['token', 'new', '--role', 'operate']);
  expect(a.code).toBe(0);
  expect(a.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
  expect(b.stdout).toMatch(/^operate:[A-Za-z0-9_-]{43}\n$/);
  expect(b.stdout).not.toContain(a.stdout.trim());
});

describe('exit status of a completed run', () => {
  it('0 when every target passed', async () => {
    const r = await runCli(['run', 'tcp', live(), `127.0.0.2:${listener.port}`, '-o', 'jsonl', '-t', '5s']);
    expect(r.stderr).not.toContain('handles still open');
    expect(r.code).toBe(0);
    const results = jsonLines<{ status: string }>(r.stdout);
    expect(results.map((x) => x.status)).toEqual(['pass', 'pass']);
  });

  it('1 when some target did not pass', async () => {
    const closed = await countingListener();
    const closedPort = closed.port;
    await closed.close(); // now a port where connects are refused
    const r = await runCli(['run', 'tcp', live(), `127.0.0.1:${closedPort}`, '-o', 'jsonl', '-t', '5s']);
    expect(r.code).toBe(1);
    const byTarget = new Map(
      jsonLines<{ port: number; status: string }>(r.stdout).map((x) => [x.port, x.status]),
    );
    expect(byTarget.get(listener.port)).toBe('pass');
    expect(byTarget.get(closedPort)).toBe('error');
  });
});
