import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { validateCheckArgs } from '../../src/checks/validate-args.js';
import { LocalExecutor } from '../../src/engine/executor.js';
import type { Result } from '../../src/engine/result.js';
import { type Simulator, startSimulator } from '../../src/sim/simulator.js';
import { resultDocument, type SearchDocument } from '../../src/sinks/search/document.js';
import { IndexNamePattern } from '../../src/sinks/search/index-name.js';
import { SearchIndexSink, type SearchIndexSinkOptions } from '../../src/sinks/search-index-sink.js';
import type { Target } from '../../src/targets/target.js';
import {
  type BulkAction,
  bulkMock,
  gatedConnection,
  mockClient,
  responseError,
} from './search-index-helpers.js';

/**
 * The search-index sink against Elastic's own `@elastic/elasticsearch-mock` (no Elasticsearch server can be
 * installed on these machines): the official client and its bulk helper run for real, the mock answers
 * `POST /_bulk`.
 */

const index = new IndexNamePattern('fleetprobe-results-YYYY.MM.DD');

const docs = (n: number, prefix = 'd'): SearchDocument[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    timestamp: '2026-11-30T10:00:00.000Z',
    body: { '@timestamp': '2026-11-30T10:00:00.000Z', n: i },
  }));

function sink(
  Connection: SearchIndexSinkOptions['client'] | Parameters<typeof mockClient>[0],
  opts: Partial<SearchIndexSinkOptions> = {},
) {
  const client =
    'helpers' in (Connection as object)
      ? (Connection as SearchIndexSinkOptions['client'])
      : mockClient(Connection as Parameters<typeof mockClient>[0]);
  return new SearchIndexSink({ client, index, retryBaseMs: 1, ...opts });
}

/** Every id the mock answered 201 for, over all requests. */
function created(requests: BulkAction[][], answered: (a: BulkAction, n: number) => number): string[] {
  return requests.flatMap((actions, i) => actions.filter((a) => answered(a, i + 1) === 201).map((a) => a.id));
}

/** Lets real I/O callbacks (the mock answers on setImmediate) run, `turns` loop turns. */
async function turns(n = 20): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

function logCapture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { log: pino({ level: 'warn' }, stream), lines };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a real engine run against the simulator', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ hosts: 150, base: '127.44.0.0', ports: { tcp: 0 }, protocols: ['tcp'] });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('indexes every result exactly once, in bulk requests of batchSize, with ids run/target/port', async () => {
    const { mock, requests } = bulkMock();
    const s = sink(mock.getConnection(), { batchSize: 64 });
    const check = createBuiltinRegistry().get('tcp');
    const port = sim.ports.tcp!;
    const targets = (async function* (): AsyncGenerator<Target> {
      for (let i = 0; i < 150; i++)
        yield { address: sim.model.host(i).address, labels: { pop: `p${i % 3}` } };
    })();
    const runId = randomUUID();
    const results = new LocalExecutor().execute(
      { id: runId },
      { check, args: validateCheckArgs(check, { port }), targets, concurrency: 32, retries: 0, total: 150 },
      new AbortController().signal,
    );
    const seen: Result[] = [];
    for await (const r of s.through(results, resultDocument)) seen.push(r);
    const stats = await s.close();

    expect(seen).toHaveLength(150);
    expect(stats).toMatchObject({ accepted: 150, indexed: 150, rejected: 0, failed: 0, aborted: 0, held: 0 });
    const actions = requests.flat();
    expect(actions).toHaveLength(150);
    expect(requests.map((r) => r.length).sort((a, b) => b - a)).toEqual([64, 64, 22]);
    const expected = seen.map((r) => `${runId}/${r.target}/${port}`).sort();
    expect(actions.map((a) => a.id).sort()).toEqual(expected);
    expect(new Set(expected).size).toBe(150);
    for (const a of actions) {
      const r = seen.find((x) => `${x.run}/${x.target}/${x.port}` === a.id)!;
      expect(a.index).toBe(`fleetprobe-results-${r.startedAt.slice(0, 10).replaceAll('-', '.')}`);
      expect(a.doc).toMatchObject({ '@timestamp': r.startedAt, target: r.target, status: r.status });
      expect(a.doc.data).toEqual({ tcp: r.data });
    }
  });
});

describe('retries', () => {
  it('a 429 answer to the whole request is retried, then everything is indexed once', async () => {
    const { mock, requests } = bulkMock((_a, n) => (n === 1 ? responseError(429) : () => 201));
    const s = sink(mock.getConnection(), { batchSize: 10 });
    await s.writeAll(docs(25));
    const stats = await s.close();
    expect(stats).toMatchObject({ accepted: 25, indexed: 25, failed: 0, rejected: 0, aborted: 0 });
    expect(stats.retries).toBe(10);
    expect(requests).toHaveLength(4);
    expect(created(requests, (_a, n) => (n === 1 ? 429 : 201)).sort()).toEqual(
      docs(25)
        .map((d) => d.id)
        .sort(),
    );
  });

  it('per-document 429s inside a 200 answer are retried (only those documents)', async () => {
    // First request: every third document is answered 429 while the others are created.
    const status = (a: BulkAction, n: number) => (n === 1 && Number(a.id.slice(1)) % 3 === 0 ? 429 : 201);
    const { mock, requests } = bulkMock((_actions, n) => (a) => status(a, n));
    const s = sink(mock.getConnection(), { batchSize: 12 });
    await s.writeAll(docs(12));
    const stats = await s.close();
    expect(stats).toMatchObject({ accepted: 12, indexed: 12, retries: 4, failed: 0, rejected: 0 });
    expect(requests.map((r) => r.map((a) => a.id))).toEqual([
      docs(12).map((d) => d.id),
      ['d0', 'd3', 'd6', 'd9'],
    ]);
    expect(created(requests, status).sort()).toEqual(
      docs(12)
        .map((d) => d.id)
        .sort(),
    );
  });

  it('a 5xx storm is retried with doubling backoff, then the documents are reported failed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { mock, requests } = bulkMock(() => responseError(503, 'unavailable_shards_exception'));
    const { log, lines } = logCapture();
    const s = sink(mock.getConnection(), { batchSize: 10, retries: 3, retryBaseMs: 100, log });
    await s.writeAll(docs(5));
    let closed = false;
    const closing = s.close().then((st) => {
      closed = true;
      return st;
    });
    await turns();
    expect(requests).toHaveLength(1);
    // Waits of 100, 200 and 400 ms: no request a millisecond early, one right on time.
    for (const [waitMs, after] of [
      [100, 2],
      [200, 3],
      [400, 4],
    ] as const) {
      await vi.advanceTimersByTimeAsync(waitMs - 1);
      await turns();
      expect(requests).toHaveLength(after - 1);
      await vi.advanceTimersByTimeAsync(1);
      await turns();
      expect(requests).toHaveLength(after);
    }
    const stats = await closing;
    expect(closed).toBe(true);
    expect(stats).toMatchObject({ accepted: 5, indexed: 0, failed: 5, retries: 15, aborted: 0, held: 0 });
    expect(stats.problems[0]).toMatchObject({
      status: 503,
      type: 'ResponseError',
      index: 'fleetprobe-results-2026.11.30',
    });
    expect(lines).toEqual([
      expect.objectContaining({ failed: 5, msg: 'search index: documents not indexed' }),
    ]);
  });
});

describe('documents the index refuses', () => {
  it('a per-document mapping error is counted and reported, not retried; the others are indexed', async () => {
    const bad = new Set(['d4', 'd17']);
    const { mock, requests } = bulkMock(
      () => (a) => (bad.has(a.id) ? { status: 400, type: 'mapper_parsing_exception' } : 201),
    );
    const { log, lines } = logCapture();
    const s = sink(mock.getConnection(), { batchSize: 10, log });
    await s.writeAll(docs(20));
    const stats = await s.close();
    expect(stats).toMatchObject({ accepted: 20, indexed: 18, rejected: 2, failed: 0, retries: 0 });
    expect(requests).toHaveLength(2);
    expect(stats.problems.map((p) => [p.id, p.status, p.type]).sort()).toEqual([
      ['d17', 400, 'mapper_parsing_exception'],
      ['d4', 400, 'mapper_parsing_exception'],
    ]);
    expect(lines.map((l) => l.rejected)).toEqual([1, 1]);
  });

  it('a document already in the index (409 on create: a resend or redelivery) counts as a duplicate, not an error', async () => {
    const { mock } = bulkMock(
      () => (a) => (a.id === 'd1' ? { status: 409, type: 'version_conflict_engine_exception' } : 201),
    );
    const s = sink(mock.getConnection());
    await s.writeAll(docs(3));
    expect(await s.close()).toMatchObject({ indexed: 2, duplicates: 1, rejected: 0, failed: 0 });
  });
});

describe('backpressure and close', () => {
  it('never holds more than batchSize x (1 + pendingLimit + concurrency) documents: write waits on a slow index', async () => {
    const { mock, requests } = bulkMock();
    const gate = gatedConnection(mock);
    const s = sink(gate.Connection, { batchSize: 10, concurrency: 1, pendingLimit: 2, flushMs: 60_000 });
    expect(s.capacity).toBe(40);
    let accepted = 0;
    let maxHeld = 0;
    const producer = (async () => {
      for (const d of docs(200)) {
        await s.write(d);
        accepted++;
        maxHeld = Math.max(maxHeld, s.stats.held);
      }
    })();
    await gate.untilWaiting(1);
    while (s.stats.accepted < 40) await turns(1);
    await turns();
    // 10 in flight, 20 queued, 10 in the full batch whose write is waiting for room.
    expect(s.stats).toMatchObject({ accepted: 40, held: 40 });
    expect(accepted).toBe(39);
    expect(gate.waiting).toBe(1);
    gate.releaseOne();
    await gate.untilWaiting(1);
    while (s.stats.accepted < 50) await turns(1);
    await turns();
    expect(s.stats).toMatchObject({ accepted: 50, held: 40, indexed: 10 });
    let done = false;
    void producer.then(() => {
      done = true;
    });
    while (!done) {
      gate.releaseAll();
      await turns(1);
    }
    const closing = s.close();
    while (s.stats.held > 0) {
      gate.releaseAll();
      await turns(1);
    }
    expect(await closing).toMatchObject({ accepted: 200, indexed: 200, held: 0 });
    expect(maxHeld).toBeLessThanOrEqual(40);
    expect(requests.flat()).toHaveLength(200);
  });

  it('close({ timeoutMs }) aborts the request in flight, the queued batch and the partial one, and reports them', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { mock, requests } = bulkMock();
    const gate = gatedConnection(mock);
    const s = sink(gate.Connection, { batchSize: 10, concurrency: 1, pendingLimit: 1 });
    await s.writeAll(docs(25)); // 10 in flight, 10 queued, 5 in the partial batch
    await gate.untilWaiting(1);
    let closed = false;
    const closing = s.close({ timeoutMs: 5000 }).then((st) => {
      closed = true;
      return st;
    });
    await vi.advanceTimersByTimeAsync(4999);
    await turns();
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const stats = await closing;
    expect(stats).toMatchObject({ accepted: 25, indexed: 0, aborted: 25, failed: 0, held: 0 });
    expect(gate.waiting).toBe(0);
    expect(requests).toHaveLength(0);
    await expect(s.write(docs(1)[0]!)).rejects.toMatchObject({ code: 'FP_SCHEDULER_CLOSED' });
  });
});
