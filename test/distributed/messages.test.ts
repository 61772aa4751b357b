import { describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/checks/builtins.js';
import { validateCheckArgs } from '../../src/checks/validate-args.js';
import { DistMessageError } from '../../src/distributed/errors.js';
import {
  argsToWire,
  decodeMessage,
  decodeTargets,
  encodeJson,
  type Heartbeat,
  resultBatchSchema,
  shardSchema,
  WireTargetsBuilder,
} from '../../src/distributed/messages.js';
import { assertRunId, distNames } from '../../src/distributed/names.js';
import { isShardDone, markShardDone, type RunCursor } from '../../src/distributed/run-cursor.js';
import { ShardCutter } from '../../src/distributed/shard-cutter.js';
import { WorkersRegistry, workerMetrics } from '../../src/distributed/workers-registry.js';
import type { Target } from '../../src/targets/target.js';
import { loopbackTargets } from './harness.js';

describe('dist wire format', () => {
  it('packs consecutive IPv4 targets into ranges and expands them back in order', () => {
    const targets: Target[] = [
      { address: '10.0.0.254', labels: {} },
      { address: '10.0.0.255', labels: {} },
      { address: '10.0.1.0', labels: {} },
      { address: '10.0.1.1', port: 22, labels: {} },
      { address: '10.0.1.2', port: 22, labels: { role: 'edge' } },
      { address: '2001:db8::1', labels: {} },
      { name: 'h1.example', labels: { region: 'eu' } },
      { address: '10.0.1.3', name: 'h3', labels: {} },
      { name: 'n1.bench.test', labels: {} },
      { name: 'n2.bench.test', labels: {} },
      { name: 'n3.bench.test', port: 53, labels: {} },
      { name: 'n4.bench.test', labels: {} },
    ];
    const b = new WireTargetsBuilder();
    for (const t of targets) b.push(t);
    expect(b.count).toBe(12);
    expect(b.entries[0]).toEqual({ r: ['10.0.0.254', 3] });
    // Names alone travel as one list per run of them.
    expect(b.entries.slice(-3)).toEqual([
      { ns: ['n1.bench.test', 'n2.bench.test'] },
      { n: 'n3.bench.test', p: 53 },
      { ns: ['n4.bench.test'] },
    ]);
    expect([...decodeTargets(b.entries)]).toEqual(targets);
  });

  it('counts the JSON bytes of a shard as it grows (entries with and without labels)', () => {
    const targets: Target[] = [
      { name: 'n1.bench.test', labels: {} },
      { name: 'n2.bench.test', labels: {} },
      { address: '2001:db8::1', port: 8443, labels: {} },
      { address: '10.0.1.3', name: 'h3', labels: {} },
      { address: '10.0.2.1', port: 22, labels: {} },
      { name: 'h1.example', labels: { region: 'eu' } },
      { name: 'h2.example', port: 53, labels: {} },
    ];
    const b = new WireTargetsBuilder();
    for (const t of targets) b.push(t);
    const exact = b.entries.reduce((bytes, e) => bytes + JSON.stringify(e).length + 8, 2);
    expect(b.bytes).toBe(exact);
  });

  it('keeps a list of names through the shard schema', () => {
    const subject = 'fleetprobe.shards.r1';
    const shard = (targets: unknown) =>
      encodeJson({
        v: 1,
        runId: 'r1',
        seq: 0,
        check: 'dns',
        args: {},
        options: { retries: 0, concurrency: 1 },
        count: 2,
        targets,
      });
    const decoded = decodeMessage(shardSchema, subject, shard([{ ns: ['a.example', 'b.example'] }]));
    expect([...decodeTargets(decoded.targets)]).toEqual([
      { name: 'a.example', labels: {} },
      { name: 'b.example', labels: {} },
    ]);
  });

  it('rejects a malformed shard or result batch with a coded error', () => {
    const subject = 'fleetprobe.shards.r1';
    expect(() => decodeMessage(shardSchema, subject, new TextEncoder().encode('{nope'))).toThrow(
      DistMessageError,
    );
    const bad = encodeJson({ v: 1, runId: 'r1', seq: -1, check: 'tcp', options: {}, count: 0, targets: [] });
    try {
      decodeMessage(shardSchema, subject, bad);
      expect.unreachable();
    } catch (err) {
      expect((err as DistMessageError).code).toBe('FP_DIST_BAD_MESSAGE');
    }
    const batch = encodeJson({
      v: 1,
      runId: 'r1',
      seq: 0,
      delivery: 1,
      batch: 0,
      final: true,
      worker: 'w',
      results: [{}],
    });
    expect(() => decodeMessage(resultBatchSchema, 'fleetprobe.results.r1', batch)).toThrow(DistMessageError);
  });

  it('sends validated args back in their input form', () => {
    expect(argsToWire({ port: 22, expectBanner: /^SSH-/i })).toEqual({ port: 22, expectBanner: '/^SSH-/i' });
    expect(argsToWire(undefined)).toEqual({});
  });

  it('sends arguments validated by validateCheckArgs as their input: every built-in check validates them again', () => {
    const inputs: Record<string, Record<string, unknown>> = {
      dns: { server: '127.0.0.1:5353', expect: '127.0.0.1', type: 'A' },
      http: { headers: ['x-a: 1'], expectStatus: '2xx', expectBody: '^ok' },
      ssh: { command: 'true', agent: 'yes' },
      tcp: { port: 22, expectBanner: '^SSH-' },
    };
    const registry = createBuiltinRegistry();
    for (const [name, input] of Object.entries(inputs)) {
      const check = registry.get(name);
      const wire = argsToWire(validateCheckArgs(check, input));
      expect(wire).toEqual(input);
      expect(() => check.args.parse(wire), name).not.toThrow();
    }
  });

  it('derives every name from the prefix and refuses run ids that are not subject tokens', () => {
    const n = distNames('fpt1');
    expect([n.shardsStream, n.resultsStream, n.runsStream]).toEqual([
      'FPT1_SHARDS',
      'FPT1_RESULTS',
      'FPT1_RUNS',
    ]);
    expect(n.shardSubject('abc')).toBe('fpt1.shards.abc');
    expect(distNames().cancelSubject('x')).toBe('fleetprobe.cancel.x');
    for (const id of ['a.b', 'a*', 'a b', '>', '']) {
      expect(() => assertRunId(id)).toThrowError(expect.objectContaining({ code: 'FP_USAGE' }));
    }
  });
});

describe('shard cutting and the run cursor', () => {
  it('cuts the same shards from the same targets (what resume relies on)', async () => {
    const cut = async () => {
      const c = new ShardCutter(loopbackTargets('127.30.0.0', 1000), 96, 1 << 20);
      const out: string[] = [];
      for (let s = await c.next(); s; s = await c.next())
        out.push(`${s.seq}:${s.count}:${JSON.stringify(s.targets)}`);
      return out;
    };
    const a = await cut();
    expect(a).toHaveLength(11);
    expect(a).toEqual(await cut());
  });

  it('cuts by bytes as well as by count', async () => {
    async function* named(): AsyncGenerator<Target> {
      for (let i = 0; i < 500; i++) yield { name: `host-${i}.example.${'x'.repeat(100)}`, labels: {} };
    }
    const c = new ShardCutter(named(), 1000, 8 * 1024);
    const first = await c.next();
    expect(first!.count).toBeLessThan(100);
    expect(JSON.stringify(first!.targets).length).toBeLessThan(9 * 1024);
  });

  it('advances the low watermark over contiguous done shards', () => {
    const cursor = { low: 0, doneAbove: [] as number[] } as unknown as RunCursor;
    markShardDone(cursor, 2);
    markShardDone(cursor, 1);
    expect(cursor.low).toBe(0);
    markShardDone(cursor, 0);
    expect(cursor.low).toBe(3);
    expect(cursor.doneAbove).toEqual([]);
    markShardDone(cursor, 5);
    expect(isShardDone(cursor, 4)).toBe(false);
    expect(isShardDone(cursor, 5)).toBe(true);
  });
});

describe('workers registry', () => {
  it('reports liveness from heartbeats and renders metrics', () => {
    const fakeNc = { subscribe: () => ({ unsubscribe() {} }) } as never;
    const reg = new WorkersRegistry({ nc: fakeNc, heartbeatMs: 1000 });
    const hb = (name: string, at: number, inFlight: number): Heartbeat => ({
      v: 1,
      name,
      id: `${name}-id`,
      state: 'running',
      inFlight,
      shards: 1,
      processed: 7,
      startedAt: 0,
      at,
    });
    reg.record(hb('a', 1000, 5), 1000);
    reg.record(hb('b', 1000, 3), 1000);
    reg.record(hb('a', 3000, 4), 3000);
    const list = reg.list(4500);
    expect(list.map((w) => [w.name, w.live, w.inFlight])).toEqual([
      ['a', true, 4],
      ['b', false, 0],
    ]);
    const text = workerMetrics(reg, 4500);
    expect(text).toContain('fleetprobe_workers_live 1\n');
    expect(text).toContain('fleetprobe_worker_in_flight{worker="a"} 4\n');
  });
});
