import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check, CheckContext } from '../../src/checks/check.js';
import { closeSharedDnsClient, dnsArgs, dnsCheck } from '../../src/checks/dns/index.js';
import { CancelledError } from '../../src/core/errors.js';
import { getSharedDnsClient } from '../../src/dns/shared-client.js';
import type { Result } from '../../src/engine/result.js';
import { startRun } from '../../src/engine/run.js';
import { startSimDnsServer } from '../../src/sim/dns/index.js';
import type { SimServer } from '../../src/sim/sim-server.js';
import type { Target } from '../../src/targets/target.js';
import { HOST, testFleet } from '../dns/sim-fleet.js';

/** The dns check through the engine, as `fleetprobe run dns` drives it, against the sim's DNS server. */
const model = testFleet();
let sim: SimServer;

beforeAll(async () => {
  sim = await startSimDnsServer(model, { host: '127.0.0.1' });
});
afterAll(async () => {
  await closeSharedDnsClient();
  await sim.close();
});

async function* targets(withAddress: boolean): AsyncIterable<Target> {
  for (let i = 0; i < model.size; i++) {
    const h = model.host(i);
    yield withAddress ? { address: h.address, name: h.name, labels: {} } : { name: h.name, labels: {} };
  }
}

async function runAll(withAddress: boolean, raw: Record<string, unknown>): Promise<Map<string, Result>> {
  let resolverCalls = 0;
  const run = startRun({
    check: dnsCheck as Check<unknown>,
    args: dnsArgs.parse({ server: `127.0.0.1:${sim.port}`, ...raw }),
    targets: targets(withAddress),
    timeoutMs: 1000,
    concurrency: 64,
    resolve: async () => {
      resolverCalls++;
      return [];
    },
  });
  const byName = new Map<string, Result>();
  for await (const r of run.results()) byName.set(r.name ?? r.target, r);
  expect(resolverCalls).toBe(0); // needsAddress: false -> names are never resolved first
  return byName;
}

describe('dns check through the engine', () => {
  it('bulk resolution: name-only targets, one server, a status per fault', async () => {
    const results = await runAll(false, {});
    expect(results.size).toBe(model.size);
    const status = (i: number) => results.get(model.host(i).name)?.status;
    expect(status(HOST.healthy)).toBe('pass');
    expect(status(HOST.nxdomain)).toBe('fail');
    expect(status(HOST.servfail)).toBe('error');
    expect(status(HOST.noReply)).toBe('timeout');
    expect(status(HOST.truncated)).toBe('pass');
    expect(status(HOST.wrongAddress)).toBe('pass'); // an answer came; without expect it is not judged
    expect(results.get(model.host(HOST.healthy).name)?.data).toMatchObject({
      rcode: 'NOERROR',
      answers: [{ data: model.host(HOST.healthy).address }],
    });
  });

  it('with addressed targets and expect=<address>, wrong-address fails (the manifest semantics)', async () => {
    const results = await runAll(true, { expect: '<address>' });
    const status = (i: number) => results.get(model.host(i).name)?.status;
    expect(status(HOST.wrongAddress)).toBe('fail');
    expect(status(HOST.healthy)).toBe('pass');
    expect(status(HOST.truncated)).toBe('pass');
  });

  it('hears its deadline through the engine’s abort hook: no listener on the signal; cancel frees the query', async () => {
    // A fresh client: no round-trip estimate yet, so the silent name's first attempt waits seconds, not ~200 ms.
    await closeSharedDnsClient();
    const listenersInFlight: number[] = [];
    const contexts: CheckContext[] = [];
    const watched: Check<unknown> = {
      ...(dnsCheck as Check<unknown>),
      run(target, args, ctx) {
        contexts.push(ctx);
        const running = dnsCheck.run(target, args as never, ctx);
        listenersInFlight.push(getEventListeners(ctx.signal, 'abort').length);
        return running;
      },
    };
    const cancel = new AbortController();
    const run = startRun({
      check: watched,
      args: dnsArgs.parse({ server: `127.0.0.1:${sim.port}` }),
      targets: (async function* () {
        yield { name: model.host(HOST.healthy).name, labels: {} };
        yield { name: model.host(HOST.noReply).name, labels: {} };
      })(),
      timeoutMs: 60_000,
      concurrency: 2,
      signal: cancel.signal,
    });
    const results: Result[] = [];
    for await (const r of run.results()) {
      results.push(r);
      if (r.status === 'pass') {
        // The healthy name answered; the silent one is still out: cancel the run under it.
        expect(getSharedDnsClient().stats().inFlight).toBe(1);
        cancel.abort(new CancelledError());
      }
    }
    expect(results.map((r) => r.status)).toEqual(['pass', 'cancelled']);
    expect(contexts.every((ctx) => ctx.abortHook !== undefined)).toBe(true);
    expect(listenersInFlight).toEqual([0, 0]);
    expect(getSharedDnsClient().stats().inFlight).toBe(0);
    expect(getSharedDnsClient().pendingCount).toBe(0);
  });
});
