import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/sim/simulator.js';
import { ensureBuilt, HANDLES_LEFT_OPEN, jsonLines, runCli } from './cli.js';

/**
 * `fleetprobe run --search-index` end to end: the built CLI against a loopback HTTP server answering
 * `POST /_bulk` as Elasticsearch does (the sink's own behaviour is tested with Elastic's mock in test/sinks).
 */
const HOSTS = 12;
let sim: Simulator;
let index: http.Server;
let url: string;
const received: { auth: string | undefined; actions: { _index: string; _id: string }[] }[] = [];

beforeAll(async () => {
  ensureBuilt();
  sim = await startSimulator({ hosts: HOSTS, base: '127.44.2.0', ports: { tcp: 0 }, protocols: ['tcp'] });
  index = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const lines = body
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      const actions = lines.filter((_, i) => i % 2 === 0).map((a) => a.create);
      received.push({ auth: req.headers.authorization, actions });
      // The document of host 3 does not fit the mapping.
      const items = actions.map((a: { _index: string; _id: string }) =>
        a._id.includes(`/${sim.model.host(3).address}/`)
          ? {
              create: { ...a, status: 400, error: { type: 'mapper_parsing_exception', reason: 'bad field' } },
            }
          : { create: { ...a, status: 201, result: 'created' } },
      );
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ took: 1, errors: true, items }));
    });
  });
  await new Promise<void>((r) => index.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(index.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await sim?.close();
  await new Promise((r) => index?.close(r));
});

describe('run --search-index', () => {
  it('indexes every result, reports the one the index refused on stderr, and exits 1', async () => {
    const targets = Array.from({ length: HOSTS }, (_, i) => sim.model.host(i).address);
    const r = await runCli(
      [
        'run',
        'tcp',
        ...targets,
        '-a',
        `port=${sim.ports.tcp}`,
        '-o',
        'jsonl',
        '--search-index',
        url,
        '--search-index-name',
        'fp-YYYY.MM',
      ],
      { env: { FLEETPROBE_SEARCH_AUTH: 'elastic:changeme' } },
    );
    const results = jsonLines<{ run: string; target: string; status: string }>(r.stdout);
    expect(results).toHaveLength(HOSTS);
    expect(results.every((x) => x.status === 'pass')).toBe(true);
    const actions = received.flatMap((q) => q.actions);
    expect(actions.map((a) => a._id).sort()).toEqual(
      results.map((x) => `${x.run}/${x.target}/${sim.ports.tcp}`).sort(),
    );
    expect(actions.every((a) => /^fp-\d{4}\.\d{2}$/.test(a._index))).toBe(true);
    expect(received[0]!.auth).toBe(`Basic ${Buffer.from('elastic:changeme').toString('base64')}`);
    expect(r.stderr).toMatch(
      /fleetprobe: warning: search index: 11 indexed, 1 rejected \(first: .* 400 mapper_parsing_exception: bad field\)/,
    );
    expect(r.stderr).not.toMatch(HANDLES_LEFT_OPEN);
    expect(r.code).toBe(1);
  });

  it.each([
    [['--search-index', 'ftp://127.0.0.1'], /--search-index: "ftp:" is not http: or https:/],
    [['--search-index', 'http://127.0.0.1:9', '--search-index-name', 'Bad'], /--search-index-name: "Bad"/],
    [['--search-index-name', 'x'], /--search-index-name needs --search-index/],
  ])('%j: one line, exit 2, nothing run', async (flags, why) => {
    const r = await runCli(['run', 'tcp', '127.44.2.1', '-a', 'port=1', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(why);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
