import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUSES, type StatusCounts } from '../../src/engine/result.js';
import { startServer } from '../../src/server/start.js';
import { openStore, type RunRecord, type Store } from '../../src/store/index.js';
import { requireService } from '../helpers/services.js';
import { freshDatabase } from '../store/store-fixtures.js';
import { ensureBuilt, jsonLines, runCli, startCli } from './cli.js';

const pgUp = await requireService('PostgreSQL', 5432);
const DIALECTS = [
  { name: 'sqlite', up: true },
  { name: 'postgres', up: pgUp },
] as const;

/** 4,096 loopback targets on a closed port, 200 started per second: a run that lasts ~20 s unless stopped. */
const TARGETS = '127.30.0.0/20';
const TOTAL = 4096;
/** Short lease for the processes killed with -9, so the tests wait ~1.5 s, not 30 s, for it to expire. */
const SHORT_LEASE_MS = 1500;
const silent = pino({ level: 'silent' });
let closedPort: number;

/** Waits (polling, bounded) until `probe` returns a value; the bound only catches a hang. */
async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const total = (c: StatusCounts) => STATUSES.reduce((n, s) => n + c[s], 0);

/** The newest running run once it has at least `rows` stored results. */
async function runningWithRows(store: Store, rows: number): Promise<RunRecord> {
  return until(async () => {
    const run = (await store.listRuns({ state: 'running', limit: 1 })).runs[0];
    return run && total(await store.countResults(run.id)) >= rows ? run : undefined;
  }, `a running run with ${rows} stored results`);
}

beforeAll(async () => {
  ensureBuilt();
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closedPort = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

for (const dialect of DIALECTS) {
  describe.skipIf(!dialect.up)(`runs have owners (${dialect.name})`, () => {
    let url: string;
    let drop: () => Promise<void>;
    let store: Store;

    beforeAll(async () => {
      const db = await freshDatabase(dialect.name);
      url = db.url;
      drop = db.drop;
      store = await openStore(url);
    });
    afterAll(async () => {
      await store?.close();
      await drop?.();
    });

    const runArgs = () => [
      'run',
      'tcp',
      TARGETS,
      '-a',
      `port=${closedPort}`,
      '--rate',
      '200',
      '-o',
      'jsonl',
      '--no-progress',
      '--db',
      url,
    ];

    it('a server starting on the store leaves a live `run --db` alone; SIGINT ends it interrupted, exit 130', async () => {
      const cli = startCli(runArgs());
      try {
        const run = await runningWithRows(store, 20);
        expect(run.owner).toMatch(/:\d+:/);
        const server = await startServer({ db: url, listen: '127.0.0.1:0', log: silent });
        try {
          expect((await server.store.getRun(run.id))?.state).toBe('running');
        } finally {
          await server.close();
        }
        expect((await store.getRun(run.id))?.state).toBe('running');

        cli.child.kill('SIGINT');
        const r = await cli.done;
        expect(r.code).toBe(130);
        expect(jsonLines(r.stdout)).toHaveLength(TOTAL);
        const got = await store.getRun(run.id);
        expect(got?.state).toBe('interrupted');
        expect(got?.counts).toEqual(await store.countResults(run.id));
        expect(total(got!.counts)).toBe(TOTAL); // the targets not checked are stored `cancelled`
        expect(got?.counts.cancelled).toBeGreaterThan(0);
      } finally {
        if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
      }
    });

    it('after kill -9 of `run --db`, `runs list` marks the run interrupted once its lease expired, counters = stored rows', async () => {
      const cli = startCli(runArgs(), { env: { FLEETPROBE_LEASE: `${SHORT_LEASE_MS}ms` } });
      let run: RunRecord;
      try {
        run = await runningWithRows(store, 50);
      } finally {
        cli.child.kill('SIGKILL');
      }
      await cli.done;
      const listed = await until(async () => {
        const r = await runCli(['runs', 'list', '--db', url, '-o', 'jsonl']);
        expect(r.code).toBe(0);
        const mine = jsonLines<RunRecord>(r.stdout).find((x) => x.id === run.id);
        return mine?.state === 'interrupted' ? mine : undefined;
      }, 'the killed run to be marked interrupted');
      const stored = await store.countResults(run.id);
      expect(listed.counts).toEqual(stored);
      expect(total(stored)).toBeGreaterThanOrEqual(50);
      expect(total(stored)).toBeLessThan(TOTAL);
    });

    it('after kill -9 of the server, the next server marks its run interrupted with counters = stored rows', async () => {
      const proc = startCli(['server', '--db', url, '--listen', '127.0.0.1:0'], {
        env: { FLEETPROBE_LEASE: `${SHORT_LEASE_MS}ms`, FLEETPROBE_LOG: 'info' },
      });
      let run: RunRecord;
      let killedAt: number;
      try {
        const base = await until(
          async () => /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(proc.stderr())?.[1],
          'the server to listen',
        );
        const res = await fetch(`${base}/api/v1/runs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ check: 'tcp', targets: [TARGETS], args: { port: closedPort }, rate: 200 }),
        });
        expect(res.status).toBe(202);
        run = await runningWithRows(store, 50);
      } finally {
        proc.child.kill('SIGKILL');
        killedAt = Date.now();
      }
      await proc.done;
      // Nothing renews the lease after the kill: it has expired for sure once its duration has passed.
      await until(
        async () => (Date.now() > killedAt + SHORT_LEASE_MS ? true : undefined),
        'the lease to expire',
      );
      const server = await startServer({ db: url, listen: '127.0.0.1:0', log: silent });
      try {
        const got = await server.store.getRun(run.id);
        expect(got?.state).toBe('interrupted');
        expect(got?.counts).toEqual(await server.store.countResults(run.id));
        expect(total(got!.counts)).toBeGreaterThanOrEqual(50);
      } finally {
        await server.close();
      }
    });
  });
}
