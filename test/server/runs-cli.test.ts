import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runsCommand } from '../../src/cli/runs-command.js';
import { api, listeners, range, readEvents, startApi, type TestApi } from './helpers.js';

/** Runs `fleetprobe runs ...` in-process, returning stdout lines. */
async function runs(args: string[]): Promise<string[]> {
  const program = new Command('fleetprobe').exitOverride();
  runsCommand(program);
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
    chunks.push(String(c));
    return true;
  });
  try {
    await program.parseAsync(['node', 'fleetprobe', 'runs', ...args]);
  } finally {
    spy.mockRestore();
  }
  return chunks.join('').split('\n').filter(Boolean);
}

describe('fleetprobe runs (against a server and directly against a store)', () => {
  let srv: TestApi;
  let fleet: Awaited<ReturnType<typeof listeners>>;
  const ids: string[] = [];
  const dbFile = `/tmp/fp-runs-cli-${process.pid}.db`;

  beforeAll(async () => {
    fleet = await listeners(range('127.27.0', 8));
    const { openStore } = await import('../../src/store/index.js');
    srv = await startApi({ store: await openStore(dbFile) });
    for (const targets of [['127.27.0.0/29'], ['127.27.0.0/29', '127.27.0.9']]) {
      const post = await api(srv.url, 'POST', '/api/v1/runs', {
        check: 'tcp',
        targets,
        args: { port: fleet.port },
      });
      await readEvents(`${srv.url}/api/v1/runs/${post.body.id}/events`);
      ids.push(post.body.id);
    }
  });
  afterAll(async () => {
    await srv?.close();
    await fleet?.close();
    const { rmSync } = await import('node:fs');
    for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) rmSync(f, { force: true });
  });

  it('list, show, results, diff through --server, as JSON lines', async () => {
    const list = (await runs(['--server', srv.url, '-o', 'jsonl', 'list'])).map((l) => JSON.parse(l));
    expect(list.map((r) => r.id)).toEqual([ids[1], ids[0]]);
    const show = JSON.parse((await runs(['--server', srv.url, '-o', 'jsonl', 'show', ids[0]!]))[0]!);
    expect(show).toMatchObject({ id: ids[0], state: 'done', counts: { pass: 8 } });
    const results = (
      await runs(['--server', srv.url, '-o', 'jsonl', 'results', ids[1]!, '--status', 'error'])
    ).map((l) => JSON.parse(l));
    expect(results.map((r) => r.target)).toEqual(['127.27.0.9']);
    const diff = (await runs(['--server', srv.url, '-o', 'jsonl', 'diff', ids[0]!, ids[1]!])).map((l) =>
      JSON.parse(l),
    );
    expect(diff).toEqual([
      {
        target: '127.27.0.9',
        port: fleet.port,
        from: null,
        to: 'error',
        fromMessage: null,
        toMessage: 'connect ECONNREFUSED',
      },
    ]);
  });

  it('reads the same from --db, and prints a table', async () => {
    const lines = await runs(['--db', dbFile, '-o', 'table', 'results', ids[0]!, '--limit', '3']);
    expect(lines[0]).toMatch(/^TARGET\s+PORT\s+STATUS\s+MS\s+MESSAGE$/);
    expect(lines).toHaveLength(4);
    const list = (await runs(['--db', dbFile, '-o', 'jsonl', 'list', '--state', 'done'])).map((l) =>
      JSON.parse(l),
    );
    expect(list).toHaveLength(2);
  });

  it('refuses bad usage with FP_USAGE', async () => {
    await expect(runs(['list'])).rejects.toMatchObject({ code: 'FP_USAGE' });
    await expect(runs(['--db', dbFile, 'cancel', ids[0]!])).rejects.toMatchObject({ code: 'FP_USAGE' });
    await expect(runs(['--server', srv.url, 'show', 'nope'])).rejects.toMatchObject({ code: 'FP_USAGE' });
    await expect(runs(['--server', srv.url, 'results', ids[0]!, '--status', 'meh'])).rejects.toMatchObject({
      code: 'FP_USAGE',
    });
  });
});
