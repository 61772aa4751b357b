import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, jsonLines, lines, runCli } from './cli.js';

let dir: string;
beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'fp-e2e-hardening-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the CLI keeps paths, with bounded reads and RE2 patterns', () => {
  it('a FIFO as ca (a path: the CLI accepts paths) gives an error result at once, and the run exits', async () => {
    const fifo = path.join(dir, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    const r = await runCli([
      'run',
      'http',
      '127.0.0.1:9',
      '-a',
      'scheme=https',
      '-a',
      `ca=${fifo}`,
      '-o',
      'jsonl',
    ]);
    expect(r.code).toBe(1);
    const [result] = jsonLines<{ status: string; message: string }>(r.stdout);
    expect(result?.status).toBe('error');
    expect(result?.message).toContain('not a regular file (a FIFO)');
  }, 30_000);

  it('a pattern RE2 refuses: exit 2, one line naming the argument', async () => {
    const r = await runCli(['run', 'http', '127.0.0.1:9', '-a', 'expectBody=(a)\\1']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/expectBody: invalid pattern/);
  }, 30_000);

  it('fleetprobe server: a credential flag that is not name=path, or names a missing file: exit 2, one line', async () => {
    for (const flag of [
      ['--ssh-identity', 'no-equals-sign'],
      ['--ca', `prod=${path.join(dir, 'missing.pem')}`],
    ]) {
      const r = await runCli(['server', '--db', ':memory:', '--listen', '127.0.0.1:0', ...flag]);
      expect(r.code, r.stderr).toBe(2);
      expect(lines(r.stderr)).toHaveLength(1);
      expect(r.stderr).toContain(flag[0]);
    }
  }, 30_000);
});
