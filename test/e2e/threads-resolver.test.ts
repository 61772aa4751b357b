import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../src/engine/result.js';
import { freePort, type KnotServer, knotInstalled, startKnot } from '../dns/knot.js';
import { type CountingListener, countingListener } from '../helpers/counting-listener.js';
import { ensureBuilt, HANDLES_LEFT_OPEN, jsonLines, runCli } from './cli.js';

/**
 * `run --resolver` resolves targets given by name with fleetprobe's DNS client (`makeResolver`) wherever the
 * run goes: in the main thread (`--threads 1`), kept there by the thread executor (a small run), and in the
 * worker threads (FLEETPROBE_TEST_THREADS_BELOW=0 shards this small run). The names exist only in knotd's zone,
 * so the system resolver could not have answered them.
 */
const NAMES = 40;
const name = (i: number) => `n${i}.resolve.test`;
const address = (i: number) => `127.21.87.${i}`;
const ZONE = [
  '$ORIGIN resolve.test.',
  '$TTL 300',
  '@ SOA ns.resolve.test. hostmaster.resolve.test. 1 3600 600 86400 300',
  '@ NS ns',
  'ns A 127.0.0.1',
  ...Array.from({ length: NAMES }, (_, i) => `n${i} A ${address(i)}`),
  '',
].join('\n');

const installed = knotInstalled();
let knot: KnotServer;
let listener: CountingListener;

beforeAll(async () => {
  if (!installed) return;
  ensureBuilt();
  listener = await countingListener('0.0.0.0');
  let lastErr: unknown;
  for (let tries = 0; tries < 3; tries++) {
    try {
      const port = await freePort();
      knot = await startKnot({
        host: '127.0.0.1',
        port,
        zone: 'resolve.test',
        zoneText: ZONE,
        udpWorkers: 1,
      });
      return;
    } catch (err) {
      lastErr = err; // the port was taken between asking and binding: try another
    }
  }
  throw lastErr;
}, 60_000);

afterAll(async () => {
  await listener?.close();
  await knot?.stop();
});

describe.skipIf(!installed)('run --resolver', () => {
  it.each([
    ['--threads 1', '1', {}],
    ['--threads 2, a run kept in the main thread', '2', {}],
    ['--threads 2, sharded over the threads', '2', { FLEETPROBE_TEST_THREADS_BELOW: '0' }],
  ])(
    'resolves names with the DNS client: %s',
    async (_, threads, env) => {
      const names = Array.from({ length: NAMES }, (_, i) => name(i));
      const r = await runCli(
        [
          'run',
          'tcp',
          ...names,
          '-a',
          `port=${listener.port}`,
          '--resolver',
          `127.0.0.1:${knot.port}`,
          '-o',
          'jsonl',
          '--no-progress',
          '--threads',
          threads,
        ],
        { env },
      );
      expect(r.stderr).not.toContain(HANDLES_LEFT_OPEN);
      expect(r.code).toBe(0);
      const results = jsonLines<Result>(r.stdout);
      const got = results.map((x) => `${x.target} ${x.data.address} ${x.status}`).sort();
      const want = names.map((n, i) => `${n} ${address(i)} pass`).sort();
      expect(got).toEqual(want);
    },
    60_000,
  );
});
