import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runsCommand } from '../../src/cli/runs-command.js';
import { openStore, type Store } from '../../src/store/index.js';
import { ensureBuilt, runCli } from '../e2e/cli.js';
import { requireService } from '../helpers/services.js';
import { startApi, type TestApi } from '../server/helpers.js';
import { freshDatabase, newRun } from '../store/store-fixtures.js';

/** Issue 12: the CLI accepts the 8-character run ids the dashboard shows (a unique prefix of the id). */
const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

const UNIQUE = '3f2a9c1e-0b7d-4c55-9e21-6a8d0f4b7c10';
const TWIN_A = '77e0b1c2-1111-4a00-8000-000000000001';
const TWIN_B = '77e0b1c2-2222-4a00-8000-000000000002';
const UNDERSCORE = 'ab_x-run'; // `_` must not act as a LIKE wildcard

/** Runs `fleetprobe runs ...` in-process; returns stdout lines. */
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

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.up)(`run id prefixes (${dialect.name})`, () => {
    let url: string;
    let drop: () => Promise<void>;
    let store: Store;
    let srv: TestApi;

    beforeAll(async () => {
      ({ url, drop } = await freshDatabase(dialect.name));
      store = await openStore(url);
      for (const id of [UNIQUE, TWIN_A, TWIN_B, UNDERSCORE])
        await store.createRun(newRun({ id, state: 'done' }));
      srv = await startApi({ store: await openStore(url) });
    });
    afterAll(async () => {
      await srv?.close();
      await store?.close();
      await drop?.();
    });

    it('the store filters by id prefix, with LIKE wildcards taken literally', async () => {
      expect(
        (await store.listRuns({ idPrefix: '77e0b1c2', limit: 10 })).runs.map((r) => r.id).sort(),
      ).toEqual([TWIN_A, TWIN_B]);
      expect((await store.listRuns({ idPrefix: 'ab_', limit: 10 })).runs.map((r) => r.id)).toEqual([
        UNDERSCORE,
      ]);
      expect((await store.listRuns({ idPrefix: 'a_', limit: 10 })).runs).toEqual([]);
      expect((await store.listRuns({ idPrefix: '%', limit: 10 })).runs).toEqual([]);
    });

    for (const via of ['--db', '--server'] as const) {
      it(`show, results and diff take an 8-character prefix (${via})`, async () => {
        const source = via === '--db' ? ['--db', url] : ['--server', srv.url];
        const show = JSON.parse((await runs([...source, '-o', 'jsonl', 'show', UNIQUE.slice(0, 8)]))[0]!);
        expect(show.id).toBe(UNIQUE);
        expect(await runs([...source, '-o', 'jsonl', 'results', UNIQUE.slice(0, 8)])).toEqual([]);
        expect(
          await runs([...source, '-o', 'jsonl', 'diff', UNIQUE.slice(0, 8), `${TWIN_A.slice(0, 9)}1`]),
        ).toEqual([]);
        await expect(runs([...source, 'show', TWIN_A.slice(0, 8)])).rejects.toMatchObject({
          code: 'FP_USAGE',
          message: expect.stringMatching(/ambiguous/),
        });
        await expect(runs([...source, 'show', 'deadbeef'])).rejects.toMatchObject({ code: 'FP_USAGE' });
      });
    }
  });
}

describe('the built CLI', () => {
  it('an ambiguous prefix is a one-line error with exit status 2', async () => {
    ensureBuilt();
    const { url, drop } = await freshDatabase('sqlite');
    try {
      const store = await openStore(url);
      for (const id of [TWIN_A, TWIN_B]) await store.createRun(newRun({ id, state: 'done' }));
      await store.close();
      const r = await runCli(['runs', '--db', url, 'show', '77e0b1c2']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^fleetprobe: run id prefix "77e0b1c2" is ambiguous: 77e0b1c2-/);
      const ok = await runCli(['runs', '--db', url, '-o', 'jsonl', 'show', '77e0b1c2-2']);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout).id).toBe(TWIN_B);
    } finally {
      await drop();
    }
  }, 60_000);
});
