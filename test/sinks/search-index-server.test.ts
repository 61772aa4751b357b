import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/server/start.js';
import { type Simulator, startSimulator } from '../../src/sim/simulator.js';
import { IndexNamePattern } from '../../src/sinks/search/index-name.js';
import { SearchIndexSink } from '../../src/sinks/search-index-sink.js';
import { bulkMock, mockClient } from './search-index-helpers.js';

/** `server --search-index`: every run's results, once stored, reach the index (Elastic's mock stands in for it). */
describe('server --search-index', () => {
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ hosts: 40, base: '127.44.1.0', ports: { tcp: 0 }, protocols: ['tcp'] });
  });
  afterAll(async () => {
    await sim?.close();
  });

  it('indexes each stored result of each run once, and closes the sink on shutdown', async () => {
    const { mock, requests } = bulkMock();
    const sink = new SearchIndexSink({
      client: mockClient(mock.getConnection()),
      ownsClient: true,
      index: new IndexNamePattern('fleetprobe-results-YYYY.MM.DD'),
      batchSize: 16,
    });
    const server = await startServer({
      db: ':memory:',
      listen: '127.0.0.1:0',
      searchIndex: sink,
      log: pino({ level: 'silent' }),
    });
    const port = sim.ports.tcp!;
    const ids: string[] = [];
    try {
      for (const [from, to] of [
        [0, 24],
        [25, 39],
      ] as const) {
        const targets = Array.from({ length: to - from + 1 }, (_, i) => sim.model.host(from + i).address);
        const run = await server.manager.submit({ check: 'tcp', targets, args: { port } });
        await server.manager.finished(run.id);
        for (const t of targets) ids.push(`${run.id}/${t}/${port}`);
      }
    } finally {
      await server.close({ graceMs: 5000 });
    }
    expect(sink.stats).toMatchObject({ accepted: 40, indexed: 40, held: 0, failed: 0, rejected: 0 });
    const actions = requests.flat();
    expect(actions.map((a) => a.id).sort()).toEqual(ids.sort());
    expect(server.searchIndex).toBe(sink);
  });
});
