import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSummary } from '../../src/cli/format-summary.js';
import { OutcomeSummary } from '../../src/engine/outcome-summary.js';
import type { Result } from '../../src/engine/result.js';
import { type CountingListener, countingListener } from '../helpers/counting-listener.js';
import { ensureBuilt, HANDLES_LEFT_OPEN, jsonLines, lines, runCli, startCli } from './cli.js';

/**
 * `run --threads 2 -o jsonl|summary|groups` without `--db`: the threads' batches reach stdout and the summary
 * as their JSONL bytes and outcomes, never parsed in main. What the user sees is what the object path
 * (`--db`, `-o csv`: each result parsed, then written and summarised one by one) shows for the same outcomes:
 * the same lines, the same summary and groups byte for byte, also under Ctrl-C.
 * FLEETPROBE_TEST_THREADS_BELOW=0 shards these small runs over the threads.
 */
const THREADED = { FLEETPROBE_TEST_THREADS_BELOW: '0' };

let open: CountingListener;
let tarpit: CountingListener;
let closedPort: number;
let dir: string;
let targetsFile: string;

beforeAll(async () => {
  ensureBuilt();
  open = await countingListener('0.0.0.0');
  tarpit = await countingListener('0.0.0.0'); // accepts and never answers
  const closed = await countingListener('0.0.0.0');
  closedPort = closed.port;
  await closed.close();
  dir = await mkdtemp(path.join(os.tmpdir(), 'fp-e2e-lines-'));
  // 300 refused (some by name: groups list names), 100 passing.
  targetsFile = path.join(dir, 'targets.jsonl');
  const entries = [
    ...Array.from({ length: 100 }, (_, i) => ({ address: `127.21.93.${i}`, port: open.port })),
    ...Array.from({ length: 40 }, (_, i) => ({ address: `127.21.94.${i}`, name: `db${i}.example` })),
  ];
  await writeFile(targetsFile, `${entries.map((e) => JSON.stringify(e)).join('\n')}\n`);
});

afterAll(async () => {
  await open?.close();
  await tarpit?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const runArgs = (format: string) => [
  'run',
  'tcp',
  '127.21.92.0/24',
  '127.21.95.0/28',
  '-f',
  targetsFile,
  '-a',
  `port=${closedPort}`,
  '-t',
  '5s',
  '-c',
  '32',
  '-o',
  format,
  '--no-progress',
  '--threads',
  '2',
];

/** A line without what differs from run to run (id, timing). */
const stable = (r: Result) =>
  JSON.stringify({ ...r, run: '', durationMs: 0, startedAt: '', data: { ...r.data, connectMs: 0 } });
/** A summary without its timing and its line on the client's own overload (either may vary by load). */
const untimed = (summary: string) =>
  summary.replace(/ in [\d.]+ s \([\d,]+ checks\/s\)/, ' in T').replace(/^ {2}client: .*\n/m, '');

describe('run --threads without --db: batches written and summarised unparsed', () => {
  it('writes the lines and the summary the object path writes', async () => {
    const db = path.join(dir, 'objects.db');
    const [fast, stored, csv] = await Promise.all([
      runCli(runArgs('jsonl'), { env: THREADED }),
      runCli([...runArgs('jsonl'), '--db', db], { env: THREADED }),
      runCli(runArgs('csv'), { env: THREADED }),
    ]);
    for (const r of [fast, stored, csv]) {
      expect(r.code).toBe(1);
      expect(r.stderr).not.toContain(HANDLES_LEFT_OPEN);
    }
    const a = jsonLines<Result>(fast.stdout);
    expect(a).toHaveLength(412);
    expect(new Set(a.map((r) => r.target)).size).toBe(412);
    // Each line is its result's JSON, as the object path writes it.
    expect(fast.stdout).toBe(a.map((r) => `${JSON.stringify(r)}\n`).join(''));
    expect(a.map(stable).sort()).toEqual(jsonLines<Result>(stored.stdout).map(stable).sort());
    expect(a.filter((r) => r.status === 'pass')).toHaveLength(100);
    // The summary (stderr) alike, and alike to the one of the results as written, in their order.
    const expected = new OutcomeSummary();
    for (const r of a) expected.add(r);
    expect(untimed(fast.stderr)).toBe(untimed(formatSummary(expected, 1, false)));
    expect(untimed(fast.stderr)).toBe(untimed(stored.stderr));
    expect(untimed(fast.stderr)).toBe(untimed(csv.stderr));
  }, 120_000);

  it.each(['groups', 'summary'])(
    '-o %s: stdout as the object path writes it',
    async (format) => {
      const db = path.join(dir, `${format}.db`);
      const [fast, stored] = await Promise.all([
        runCli(runArgs(format), { env: THREADED }),
        runCli([...runArgs(format), '--db', db], { env: THREADED }),
      ]);
      expect(fast.code).toBe(1);
      expect(stored.code).toBe(1);
      expect(untimed(fast.stdout)).toBe(untimed(stored.stdout));
      expect(untimed(fast.stderr)).toBe(untimed(stored.stderr));
      if (format === 'groups') {
        expect(lines(fast.stdout)[0]).toBe('312 error connect ECONNREFUSED');
        expect(fast.stdout).toContain('db39.example');
      }
    },
    120_000,
  );

  it('under Ctrl-C: one line per target, and the summary of the lines written', async () => {
    // 200 refused at once (batches from the threads), then 312 held by a tarpit until the interrupt: those
    // in flight come back cancelled from the threads, those never sent are made cancelled in main.
    const file = path.join(dir, 'cancel.txt');
    const refused = Array.from({ length: 200 }, (_, i) => `127.21.96.${i}:${closedPort}`);
    const held = Array.from({ length: 312 }, (_, i) => `127.21.${97 + (i >> 8)}.${i & 255}:${tarpit.port}`);
    await writeFile(file, `${[...refused, ...held].join('\n')}\n`);
    const before = tarpit.accepted();
    const cli = startCli(
      ['run', 'http', '-f', file, '-t', '60s', '-c', '64', '-o', 'jsonl', '--no-progress', '--threads', '2'],
      { env: THREADED },
    );
    let r: Awaited<typeof cli.done>;
    try {
      // Explicit handshake (the bound only catches a hang): every refused target written, held ones in flight.
      for (let i = 0; i < 1000; i++) {
        if (lines(cli.stdout()).length >= 200 && tarpit.accepted() - before >= 32) break;
        if (cli.child.exitCode !== null) break;
        await sleep(20);
      }
      expect(lines(cli.stdout())).toHaveLength(200);
      cli.child.kill('SIGINT');
      r = await cli.done;
    } finally {
      if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
    }
    expect(r.code).toBe(130);
    const written = jsonLines<Result>(r.stdout);
    expect(written).toHaveLength(512);
    expect(new Set(written.map((x) => x.target)).size).toBe(512);
    expect(written.filter((x) => x.status === 'error')).toHaveLength(200);
    expect(written.filter((x) => x.status === 'cancelled')).toHaveLength(312);
    const expected = new OutcomeSummary();
    for (const x of written) expected.add(x);
    expect(untimed(r.stderr)).toBe(untimed(formatSummary(expected, 1, true)));
    expect(r.stderr).not.toContain(HANDLES_LEFT_OPEN);
  }, 120_000);
});
