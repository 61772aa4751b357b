import { spawn } from 'node:child_process';
import { getEventListeners, once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AbortHook, AbortListener } from '../../src/core/abort-hook.js';
import { CancelledError } from '../../src/core/errors.js';
import {
  DnsClient,
  DnsClientClosedError,
  DnsNoReplyError,
  DnsQueryError,
  DnsTcpError,
  resolveHost,
} from '../../src/dns/index.js';
import { startSimDnsServer, WRONG_ADDRESS } from '../../src/sim/dns/index.js';
import type { SimServer } from '../../src/sim/sim-server.js';
import { ANSWER_ADDRESS, startMisbehavingServer } from './misbehaving-server.js';
import { HOST, testFleet } from './sim-fleet.js';

const model = testFleet();
let sim: SimServer;
let server: { address: string; port: number };

beforeAll(async () => {
  sim = await startSimDnsServer(model, { host: '127.0.0.1' });
  server = { address: '127.0.0.1', port: sim.port };
});
afterAll(async () => {
  await sim.close();
});

/** An AbortHook over a fresh controller that records what it is asked to listen with. */
function recordingHook(): {
  hook: AbortHook;
  listens: (AbortListener | undefined)[];
  controller: AbortController;
} {
  const controller = new AbortController();
  const listens: (AbortListener | undefined)[] = [];
  const hook: AbortHook = {
    signal: controller.signal,
    get aborted() {
      return controller.signal.aborted;
    },
    listen: (listener) => {
      listens.push(listener);
    },
  };
  return { hook, listens, controller };
}

/** Two loop turns: a closed handle leaves libuv's list in the close phase, after the check phase. */
async function loopTurns(): Promise<void> {
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
}

function udpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'UDPWrap' || r === 'UDPWRAP').length;
}

describe('DnsClient against the sim DNS server', () => {
  it('resolves a healthy host A record, case-insensitively matched', async () => {
    const client = new DnsClient();
    try {
      const res = await client.query({ name: 'H1.Fleet.Test', type: 'A', server });
      expect(res.rcode).toBe('NOERROR');
      expect(res.answers).toEqual([
        { name: 'H1.Fleet.Test', type: 'A', ttl: 60, data: model.host(1).address },
      ]);
      expect(res.server).toEqual(server);
      expect(res.attempts).toBe(1);
      expect(res.truncatedRetriedOverTcp).toBe(false);
      expect(res.authoritative).toBe(true);
      expect(res.rttMs).toBeGreaterThanOrEqual(0);
    } finally {
      await client.close();
    }
  });

  it('gives NXDOMAIN, SERVFAIL, wrong-address and NODATA replies as data', async () => {
    const client = new DnsClient();
    try {
      const nx = await client.query({ name: model.host(HOST.nxdomain).name, type: 'A', server });
      expect(nx.rcode).toBe('NXDOMAIN');
      expect(nx.answers).toEqual([]);
      expect(nx.authorities.map((a) => a.type)).toEqual(['SOA']);
      const sf = await client.query({ name: model.host(HOST.servfail).name, type: 'A', server });
      expect(sf.rcode).toBe('SERVFAIL');
      const wrong = await client.query({ name: model.host(HOST.wrongAddress).name, type: 'A', server });
      expect(wrong.answers.map((a) => a.data)).toEqual([WRONG_ADDRESS]);
      const nodata = await client.query({ name: model.host(HOST.healthy).name, type: 'AAAA', server });
      expect(nodata.rcode).toBe('NOERROR');
      expect(nodata.answers).toEqual([]);
      const unknown = await client.query({ name: 'nothere.fleet.test', type: 'A', server });
      expect(unknown.rcode).toBe('NXDOMAIN');
      const outside = await client.query({ name: 'example.com', type: 'A', server });
      expect(outside.rcode).toBe('REFUSED');
    } finally {
      await client.close();
    }
  });

  it('answers PTR, SOA, NS and TXT', async () => {
    const client = new DnsClient();
    try {
      const ptr = await client.query({ name: '3.0.20.127.in-addr.arpa', type: 'PTR', server });
      expect(ptr.answers.map((a) => a.data)).toEqual(['h3.fleet.test']);
      const soa = await client.query({ name: 'fleet.test', type: 'SOA', server });
      expect(soa.answers[0]?.data).toMatch(/^ns\.fleet\.test hostmaster\.fleet\.test 1 /);
      const ns = await client.query({ name: 'fleet.test', type: 'NS', server });
      expect(ns.answers.map((a) => a.data)).toEqual(['ns.fleet.test']);
      const txt = await client.query({ name: 'h2.fleet.test', type: 'TXT', server });
      expect(txt.answers.map((a) => a.data)).toEqual(['fleetprobe-sim h2']);
    } finally {
      await client.close();
    }
  });

  it('retries over TCP after a truncated UDP reply', async () => {
    const client = new DnsClient();
    try {
      const res = await client.query({ name: model.host(HOST.truncated).name, type: 'A', server });
      expect(res.truncatedRetriedOverTcp).toBe(true);
      expect(res.attempts).toBe(2);
      expect(res.answers.map((a) => a.data)).toEqual([model.host(HOST.truncated).address]);
      expect(client.stats().tcpFallbacks).toBe(1);
      expect(client.pendingCount).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('retries a host that never answers, then rejects with DnsNoReplyError after all attempts', async () => {
    const client = new DnsClient({ timeoutMs: 40, retries: 2, tickMs: 10 });
    try {
      const err = await client
        .query({ name: model.host(HOST.noReply).name, type: 'A', server })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DnsNoReplyError);
      expect((err as DnsNoReplyError).code).toBe('FP_DNS_NO_REPLY');
      expect((err as DnsNoReplyError).attempts).toBe(3);
      const stats = client.stats();
      expect(stats.sent).toBe(3);
      expect(stats.retries).toBe(2);
      expect(client.pendingCount).toBe(0);
      expect(stats.inFlight).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('keeps thousands of queries in flight and matches every reply to its question', async () => {
    const client = new DnsClient({ initialWindow: 512 });
    try {
      const healthy = [0, 1, 2, 3, 9, 10, 11, 12, 13, 14, 15];
      const jobs = Array.from({ length: 4000 }, (_, i) => {
        const h = model.host(healthy[i % healthy.length]!);
        return client
          .query({ name: h.name, type: 'A', server })
          .then((res) => res.answers[0]?.data === h.address);
      });
      const ok = await Promise.all(jobs);
      expect(ok.every(Boolean)).toBe(true);
      expect(client.stats().replies).toBe(4000);
      expect(client.pendingCount).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('resolveHost returns A then AAAA addresses, [] for NXDOMAIN, and passes IP literals through', async () => {
    const client = new DnsClient();
    try {
      const resolve = resolveHost(client, server);
      const signal = new AbortController().signal;
      expect(await resolve('h3.fleet.test', signal)).toEqual([model.host(3).address]);
      expect(await resolve(model.host(HOST.nxdomain).name, signal)).toEqual([]);
      expect(await resolve('127.1.2.3', signal)).toEqual(['127.1.2.3']);
      await expect(resolve(model.host(HOST.servfail).name, signal)).rejects.toMatchObject({
        code: 'FP_DNS_RESOLVE',
      });
    } finally {
      await client.close();
    }
  });

  it('rejects a bad name or type without sending anything', async () => {
    const client = new DnsClient();
    try {
      await expect(client.query({ name: 'a..b', type: 'A', server })).rejects.toBeInstanceOf(DnsQueryError);
      await expect(
        client.query({ name: `${'x'.repeat(64)}.test`, type: 'A', server }),
      ).rejects.toBeInstanceOf(DnsQueryError);
      await expect(client.query({ name: 'a.test', type: 'SRV' as 'A', server })).rejects.toBeInstanceOf(
        DnsQueryError,
      );
      expect(client.stats().sent).toBe(0);
    } finally {
      await client.close();
    }
  });
});

describe('DnsClient against a misbehaving server', () => {
  it('ignores a wrong id, a wrong question and a reply from another port, and accepts the real reply', async () => {
    const bad = await startMisbehavingServer('spoof-then-answer');
    const client = new DnsClient();
    try {
      const res = await client.query({
        name: 'spoofed.test',
        type: 'A',
        server: { address: '127.0.0.1', port: bad.port },
      });
      expect(res.answers.map((a) => a.data)).toEqual([ANSWER_ADDRESS]);
      expect(res.attempts).toBe(1);
      expect(client.stats().unmatched).toBe(3);
    } finally {
      await client.close();
      await bad.close();
    }
  });

  it('never trusts forgeries: with only forged replies the query times out', async () => {
    const bad = await startMisbehavingServer('spoof-only');
    const client = new DnsClient({ timeoutMs: 40, retries: 1, tickMs: 10 });
    try {
      const err = await client
        .query({ name: 'spoofed.test', type: 'A', server: { address: '127.0.0.1', port: bad.port } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DnsNoReplyError);
      expect(bad.received()).toBe(2);
      expect(client.stats().unmatched).toBe(6);
    } finally {
      await client.close();
      await bad.close();
    }
  });

  it('ignores a malformed reply that echoes the id and still takes the real one', async () => {
    const bad = await startMisbehavingServer('garbage-then-answer');
    const client = new DnsClient();
    try {
      const res = await client.query({
        name: 'junk.test',
        type: 'A',
        server: { address: '127.0.0.1', port: bad.port },
      });
      expect(res.answers.map((a) => a.data)).toEqual([ANSWER_ADDRESS]);
      expect(client.stats().unmatched).toBe(1);
    } finally {
      await client.close();
      await bad.close();
    }
  });

  it('names an answer as the reply spells it when the reply changes the case of the question', async () => {
    const bad = await startMisbehavingServer('case-swapped-compressed');
    const client = new DnsClient();
    try {
      const res = await client.query({
        name: 'Mixed.Case.test.',
        type: 'A',
        server: { address: '127.0.0.1', port: bad.port },
      });
      expect(res.answers).toEqual([{ name: 'mIXED.cASE.TEST', type: 'A', ttl: 5, data: ANSWER_ADDRESS }]);
    } finally {
      await client.close();
      await bad.close();
    }
  });

  it('aborting mid-query rejects with the reason and frees the id, the window slot and the timer', async () => {
    const bad = await startMisbehavingServer('silent');
    const client = new DnsClient({ timeoutMs: 60_000 });
    try {
      const ac = new AbortController();
      const p = client.query({
        name: 'slow.test',
        type: 'A',
        server: { address: '127.0.0.1', port: bad.port },
        signal: ac.signal,
      });
      while (bad.received() === 0) await new Promise((r) => setTimeout(r, 5));
      expect(client.pendingCount).toBe(1);
      const reason = new CancelledError();
      ac.abort(reason);
      await expect(p).rejects.toBe(reason);
      expect(client.pendingCount).toBe(0);
      expect(client.stats().inFlight).toBe(0);
    } finally {
      await client.close();
      await bad.close();
    }
  });

  it('an abortHook, instead of a signal: set while the query is out, aborting rejects and frees it', async () => {
    const bad = await startMisbehavingServer('silent');
    const client = new DnsClient({ timeoutMs: 60_000 });
    try {
      const { hook, listens, controller } = recordingHook();
      const p = client.query({
        name: 'slow.test',
        type: 'A',
        server: { address: '127.0.0.1', port: bad.port },
        abortHook: hook,
      });
      while (bad.received() === 0) await new Promise((r) => setTimeout(r, 5));
      expect(listens).toHaveLength(1);
      const reason = new CancelledError();
      controller.abort(reason);
      listens[0]!.handleEvent();
      await expect(p).rejects.toBe(reason);
      expect(listens).toEqual([listens[0], undefined]);
      expect(client.pendingCount).toBe(0);
      expect(client.stats().inFlight).toBe(0);
    } finally {
      await client.close();
      await bad.close();
    }
  });

  it('an abortHook’s listener is removed when the query is answered, and the signal gets none', async () => {
    const client = new DnsClient();
    try {
      const { hook, listens, controller } = recordingHook();
      const res = await client.query({ name: 'h1.fleet.test', type: 'A', server, abortHook: hook });
      expect(res.rcode).toBe('NOERROR');
      expect(listens).toHaveLength(2);
      expect(listens[1]).toBeUndefined();
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    } finally {
      await client.close();
    }
  });

  it('rejects at once with the reason when the signal is already aborted', async () => {
    const client = new DnsClient();
    const reason = new CancelledError();
    await expect(
      client.query({ name: 'x.test', type: 'A', server, signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    expect(client.stats().sent).toBe(0);
    await client.close();
  });

  it('aborting a query waiting beyond the window drops it from the queue without sending it', async () => {
    const bad = await startMisbehavingServer('silent');
    const client = new DnsClient({ initialWindow: 1, minWindow: 1, maxWindow: 1, timeoutMs: 60_000 });
    const target = { address: '127.0.0.1', port: bad.port };
    try {
      const first = client.query({ name: 'one.test', type: 'A', server: target });
      const ac = new AbortController();
      const second = client.query({ name: 'two.test', type: 'A', server: target, signal: ac.signal });
      expect(client.stats().queued).toBe(1);
      ac.abort(new CancelledError());
      await expect(second).rejects.toBeInstanceOf(CancelledError);
      const closing = client.close();
      await expect(first).rejects.toBeInstanceOf(DnsClientClosedError);
      await closing;
      expect(client.stats().sent).toBe(1);
    } finally {
      await client.close();
      await bad.close();
    }
  });

  it('windows are per server: a silent server with a full window does not hold up another server', async () => {
    const bad = await startMisbehavingServer('silent');
    const client = new DnsClient({ initialWindow: 2, minWindow: 1, maxWindow: 2, timeoutMs: 60_000 });
    try {
      const stuck = Array.from({ length: 5 }, (_, i) =>
        client.query({ name: `dead${i}.test`, type: 'A', server: { address: '127.0.0.1', port: bad.port } }),
      );
      const settled = Promise.allSettled(stuck);
      expect(client.stats().queued).toBe(3);
      const res = await client.query({ name: 'h1.fleet.test', type: 'A', server });
      expect(res.answers[0]?.data).toBe(model.host(1).address);
      await client.close();
      expect(
        (await settled).every((r) => r.status === 'rejected' && r.reason instanceof DnsClientClosedError),
      ).toBe(true);
    } finally {
      await client.close();
      await bad.close();
    }
  });

  it('aborting during the TCP fallback destroys the TCP connection', async () => {
    const bad = await startMisbehavingServer('truncate-tcp-silent');
    const client = new DnsClient({ timeoutMs: 60_000 });
    try {
      const ac = new AbortController();
      const p = client.query({
        name: 'big.test',
        type: 'A',
        server: { address: '127.0.0.1', port: bad.port },
        signal: ac.signal,
      });
      while (bad.tcpAccepted() === 0) await new Promise((r) => setTimeout(r, 5));
      ac.abort(new CancelledError());
      await expect(p).rejects.toBeInstanceOf(CancelledError);
      while (bad.tcpOpen() > 0) await new Promise((r) => setTimeout(r, 5));
      expect(client.pendingCount).toBe(0);
    } finally {
      await client.close();
      await bad.close();
    }
  });

  it('a TCP fallback that never answers times out after its attempts', async () => {
    const bad = await startMisbehavingServer('truncate-tcp-silent');
    const client = new DnsClient({ timeoutMs: 40, retries: 1, tickMs: 10 });
    try {
      const err = await client
        .query({ name: 'big.test', type: 'A', server: { address: '127.0.0.1', port: bad.port } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DnsNoReplyError);
      expect((err as DnsNoReplyError).attempts).toBe(2);
    } finally {
      await client.close();
      await bad.close();
    }
  });

  it('a refused TCP fallback rejects with DnsTcpError', async () => {
    const bad = await startMisbehavingServer('truncate-no-tcp');
    const client = new DnsClient();
    try {
      const err = await client
        .query({ name: 'big.test', type: 'A', server: { address: '127.0.0.1', port: bad.port } })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DnsTcpError);
      expect((err as DnsTcpError).code).toBe('FP_DNS_TCP');
      expect(client.pendingCount).toBe(0);
    } finally {
      await client.close();
      await bad.close();
    }
  });

  it('close() rejects everything pending and leaves no UDP handle behind', async () => {
    const bad = await startMisbehavingServer('silent');
    await loopTurns();
    const withServer = udpHandles();
    const client = new DnsClient({ socketsPerFamily: 3, timeoutMs: 60_000 });
    const target = { address: '127.0.0.1', port: bad.port };
    const queries = Array.from({ length: 10 }, (_, i) =>
      client.query({ name: `q${i}.test`, type: 'A', server: target }),
    );
    expect(udpHandles()).toBe(withServer + 3);
    const closed = client.close();
    const results = await Promise.allSettled(queries);
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof DnsClientClosedError)).toBe(
      true,
    );
    await closed;
    await loopTurns(); // dgram emits 'close' before libuv drops the handle
    expect(udpHandles()).toBe(withServer);
    await expect(client.query({ name: 'late.test', type: 'A', server: target })).rejects.toBeInstanceOf(
      DnsClientClosedError,
    );
    await bad.close();
  });

  it('an idle client that is never closed does not keep the process alive', async () => {
    const script = [
      `import { DnsClient } from ${JSON.stringify(new URL('../../src/dns/index.ts', import.meta.url).pathname)};`,
      'const client = new DnsClient();',
      `const res = await client.query({ name: 'h1.fleet.test', type: 'A', server: { address: '127.0.0.1', port: ${sim.port} } });`,
      'console.log(res.answers[0].data);',
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const [code, sig] = (await once(child, 'exit')) as [number | null, string | null];
    clearTimeout(timer);
    expect(sig).toBeNull();
    expect(code).toBe(0);
    expect(out.trim()).toBe(model.host(1).address);
  });
});
