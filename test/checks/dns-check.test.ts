import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.js';
import { closeSharedDnsClient, dnsArgs, dnsCheck } from '../../src/checks/dns/index.js';
import { createDeadline, type Deadline } from '../../src/core/deadline.js';
import { CancelledError, DeadlineError } from '../../src/core/errors.js';
import { startSimDnsServer } from '../../src/sim/dns/index.js';
import type { SimServer } from '../../src/sim/sim-server.js';
import type { Target } from '../../src/targets/target.js';
import { startMisbehavingServer } from '../dns/misbehaving-server.js';
import { HOST, testFleet } from '../dns/sim-fleet.js';

const log = pino({ level: 'silent' });
const deadlines: Deadline[] = [];
const model = testFleet();
let sim: SimServer;
let server: string;

function ctxFor(timeoutMs: number, parent?: AbortSignal): CheckContext {
  const d = createDeadline(timeoutMs, parent);
  deadlines.push(d);
  return { signal: d.signal, deadline: d.at, timeoutMs, log, resolve: async () => [] };
}

function hostTarget(i: number): Target {
  const h = model.host(i);
  return { address: h.address, name: h.name, labels: {} };
}

const nameTarget = (name: string): Target => ({ name, labels: {} });

beforeAll(async () => {
  sim = await startSimDnsServer(model, { host: '127.0.0.1' });
  server = `127.0.0.1:${sim.port}`;
});
afterEach(() => {
  for (const d of deadlines.splice(0)) d.dispose();
});
afterAll(async () => {
  await closeSharedDnsClient();
  await sim.close();
});

describe('dns check arguments', () => {
  it('coerces and defaults', () => {
    const a = dnsArgs.parse({ type: 'mx', server: '127.0.0.1:5353', retries: '1' });
    expect(a.type).toBe('MX');
    expect(a.server).toEqual({ address: '127.0.0.1', port: 5353 });
    expect(a.retries).toBe(1);
    expect(dnsArgs.parse({}).type).toBe('A');
    expect(dnsArgs.parse({}).rcode).toBe('NOERROR');
    expect(dnsArgs.parse({ server: '[::1]' }).server).toEqual({ address: '::1', port: 53 });
  });

  it('rejects a bad server, type or regex', () => {
    expect(dnsArgs.safeParse({ server: 'resolver.example' }).success).toBe(false);
    expect(dnsArgs.safeParse({ server: '127.0.0.1:99999' }).success).toBe(false);
    expect(dnsArgs.safeParse({ type: 'SRV' }).success).toBe(false);
    expect(dnsArgs.safeParse({ expect: '/(/' }).success).toBe(false);
  });

  it('declares that its targets need no address', () => {
    expect(dnsCheck.needsAddress).toBe(false);
    expect(dnsCheck.timeoutMs).toBe(2000);
  });
});

describe('dns check against the sim DNS server (faults by the name asked)', () => {
  const run = (t: Target, raw: Record<string, unknown>, timeoutMs = 2000) =>
    dnsCheck.run(t, dnsArgs.parse({ server, ...raw }), ctxFor(timeoutMs));

  it('passes a healthy host, with its data', async () => {
    const obs = await run(hostTarget(HOST.healthy), { expect: '<address>' });
    expect(obs.status).toBe('pass');
    expect(obs.data).toMatchObject({
      name: model.host(HOST.healthy).name,
      type: 'A',
      rcode: 'NOERROR',
      server,
      attempts: 1,
      tcp: false,
      answers: [{ type: 'A', data: model.host(HOST.healthy).address }],
    });
    expect(typeof obs.data?.rttMs).toBe('number');
  });

  it('bulk mode: a target that is only a name is asked about at the given server', async () => {
    const obs = await run(nameTarget(model.host(2).name), { expect: model.host(2).address });
    expect(obs.status).toBe('pass');
  });

  it('NXDOMAIN -> fail', async () => {
    const obs = await run(hostTarget(HOST.nxdomain), {});
    expect(obs.status).toBe('fail');
    expect(obs.data?.rcode).toBe('NXDOMAIN');
  });

  it('rcode=NXDOMAIN makes a missing name pass and a present one fail', async () => {
    expect((await run(hostTarget(HOST.nxdomain), { rcode: 'nxdomain' })).status).toBe('pass');
    expect((await run(hostTarget(HOST.healthy), { rcode: 'NXDOMAIN' })).status).toBe('fail');
  });

  it('SERVFAIL -> error', async () => {
    const obs = await run(hostTarget(HOST.servfail), {});
    expect(obs.status).toBe('error');
    expect(obs.data?.rcode).toBe('SERVFAIL');
  });

  it('NODATA (NOERROR, no records of the type) -> fail', async () => {
    const obs = await run(hostTarget(HOST.healthy), { type: 'AAAA' });
    expect(obs.status).toBe('fail');
    expect(obs.data?.rcode).toBe('NOERROR');
  });

  it('wrong-address with expect=<address> -> fail; exact and regex expectations', async () => {
    expect((await run(hostTarget(HOST.wrongAddress), { expect: '<address>' })).status).toBe('fail');
    expect((await run(hostTarget(HOST.wrongAddress), {})).status).toBe('pass');
    expect((await run(hostTarget(3), { expect: '/^127\\.20\\.0\\.3$/' })).status).toBe('pass');
    expect((await run(hostTarget(3), { expect: '/^10\\./' })).status).toBe('fail');
  });

  it('a failed expectation has one reason whatever was expected and got; the values go to data', async () => {
    const wrong = await run(hostTarget(HOST.wrongAddress), { expect: '<address>' });
    const regex = await run(hostTarget(3), { expect: '/^10\\./' });
    expect(wrong.message).toMatch(/^expected .+, got /);
    expect(wrong.reason).toBe('expected <expected>, got <answers>');
    expect(regex.reason).toBe(wrong.reason);
    expect(wrong.message).not.toBe(regex.message);
    expect(typeof wrong.data?.expected).toBe('string');
  });

  it('truncated over UDP -> the TCP retry passes', async () => {
    const obs = await run(hostTarget(HOST.truncated), { expect: '<address>' });
    expect(obs.status).toBe('pass');
    expect(obs.data?.tcp).toBe(true);
  });

  it('no reply -> rejects with the deadline when the deadline comes first', async () => {
    const err = await run(hostTarget(HOST.noReply), { retries: 10 }, 300).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DeadlineError);
  });

  it('no reply -> timeout observation when the retries run out before the deadline', async () => {
    // Attempts take 80% of the deadline (1,066 + 2,133 ms): 800 ms to spare for a busy machine's late timers.
    const obs = await run(hostTarget(HOST.noReply), { retries: 1 }, 4000);
    expect(obs.status).toBe('timeout');
    expect(obs.data?.attempts).toBe(2);
  });

  it('PTR without a name asks for the reverse of the target address', async () => {
    const obs = await run({ address: model.host(5 - 2).address, labels: {} }, { type: 'PTR' });
    expect(obs.status).toBe('pass');
    expect(obs.data?.name).toBe('3.0.20.127.in-addr.arpa');
    expect(obs.data?.answers).toMatchObject([{ data: 'h3.fleet.test' }]);
  });

  it('a name-only target without server, or an address target without name, is an error observation', async () => {
    const a = await dnsCheck.run(nameTarget('h1.fleet.test'), dnsArgs.parse({}), ctxFor(1000));
    expect(a.status).toBe('error');
    const b = await dnsCheck.run(
      { address: '127.0.0.1', labels: {} },
      dnsArgs.parse({ server }),
      ctxFor(1000),
    );
    expect(b.status).toBe('error');
  });

  it('the target itself is the server when server is unset (port from the target)', async () => {
    const obs = await dnsCheck.run(
      { address: '127.0.0.1', port: sim.port, name: 'h4.fleet.test', labels: {} },
      dnsArgs.parse({}),
      ctxFor(2000),
    );
    expect(obs.status).toBe('fail');
    expect(obs.data?.server).toBe(server);
  });

  it('cancel mid-query rejects with the cancel reason', async () => {
    const bad = await startMisbehavingServer('silent');
    try {
      const parent = new AbortController();
      const ctx = ctxFor(10_000, parent.signal);
      const p = dnsCheck.run(nameTarget('x.test'), dnsArgs.parse({ server: `127.0.0.1:${bad.port}` }), ctx);
      while (bad.received() === 0) await new Promise((r) => setTimeout(r, 5));
      parent.abort(new CancelledError());
      await expect(p).rejects.toBeInstanceOf(CancelledError);
    } finally {
      await bad.close();
    }
  });
});
