import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFleetModel } from '../../src/sim/fleet.js';
import { HTTP_FAULTS, type HttpFault } from '../../src/sim/fleet-model.js';
import { DRIP_BODY_BYTES, GARBAGE } from '../../src/sim/http-behaviour.js';
import { startSimHttpServer } from '../../src/sim/http-server.js';
import { parseProfile } from '../../src/sim/profile.js';
import type { SimServer } from '../../src/sim/sim-server.js';
import { exchange, headAndBody, REQUEST, readAtLeast } from './raw-client.js';

// Host i of this fleet has the i-th HTTP fault: 127.20.9.<i>.
const FAULTS = HTTP_FAULTS;
const model = createFleetModel({
  hosts: FAULTS.length,
  base: '127.20.9.0',
  profile: parseProfile(
    { ranges: FAULTS.map((http, i) => ({ from: i, to: i, http })), slow: { minMs: 30, maxMs: 30 } },
    'test',
  ),
});
const addr = (fault: HttpFault) => `127.20.9.${FAULTS.indexOf(fault)}`;

describe('sim HTTP server', () => {
  let server: SimServer;
  beforeAll(async () => {
    server = await startSimHttpServer(model, { port: 0, host: '0.0.0.0' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('healthy: 200 with body "ok h<i>"', async () => {
    const r = await exchange(addr('healthy'), server.port);
    const { head, body } = headAndBody(r.data);
    expect(r.errorCode).toBeUndefined();
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(body).toBe('ok h0\n');
  });

  it('slow: healthy, after its latency', async () => {
    const started = performance.now();
    const r = await exchange(addr('slow'), server.port);
    expect(performance.now() - started).toBeGreaterThanOrEqual(25); // latency is 30 ms; timer slack
    expect(headAndBody(r.data).body).toBe('ok h1\n');
  });

  it('http5xx: 503', async () => {
    const r = await exchange(addr('http5xx'), server.port);
    expect(headAndBody(r.data).head).toMatch(/^HTTP\/1\.1 503 /);
  });

  it('wrong-body: 200 with another body', async () => {
    const { head, body } = headAndBody((await exchange(addr('wrong-body'), server.port)).data);
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(body).toBe('wrong\n');
  });

  it('garbage: non-HTTP bytes, then close', async () => {
    const r = await exchange(addr('garbage'), server.port);
    expect(r.data.equals(GARBAGE)).toBe(true);
    expect(r.data.subarray(0, 5).toString()).not.toBe('HTTP/');
  });

  it('reset and refused: the connection is reset, no byte of a response', async () => {
    for (const fault of ['reset', 'refused'] as const) {
      const r = await exchange(addr(fault), server.port);
      expect(r.errorCode).toMatch(/^(ECONNRESET|EPIPE)$/);
      expect(r.data.length).toBe(0);
    }
  });

  it('tarpit: the connection stays open and the request gets no answer until the client closes', async () => {
    const socket = net.connect({ host: addr('tarpit'), port: server.port });
    let received = 0;
    let closed = false;
    socket.on('data', (c: Buffer) => (received += c.length));
    socket.on('close', () => (closed = true));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(REQUEST);
    // Handshake: a complete exchange with a healthy host, started after the tarpit's request was written.
    const healthy = await exchange(addr('healthy'), server.port);
    expect(headAndBody(healthy.data).body).toBe('ok h0\n');
    await vi.waitFor(() => expect(server.openSockets()).toBe(1));
    expect(received).toBe(0);
    expect(closed).toBe(false);
    socket.destroy();
    await vi.waitFor(() => expect(server.openSockets()).toBe(0));
  });

  it('endless-body: streams past 1 MB, and the server lets go when the client closes', async () => {
    const { socket, data } = await readAtLeast(addr('endless-body'), server.port, 1_100_000);
    expect(headAndBody(data).head).toMatch(/^HTTP\/1\.1 200 /);
    expect(headAndBody(data).head).not.toMatch(/content-length/i);
    socket.destroy();
    await vi.waitFor(() => expect(server.openSockets()).toBe(0));
  });
});

describe('sim HTTP server: drip-body', () => {
  it('sends Content-Length 1000 and one byte per interval', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const server = await startSimHttpServer(model, { port: 0 });
    try {
      const { socket, data } = await readAtLeast(addr('drip-body'), server.port, 1);
      const { head } = headAndBody(data);
      expect(head).toMatch(new RegExp(`content-length: ${DRIP_BODY_BYTES}`, 'i'));
      const headLength = head.length + 4;
      // Wait for the first body byte (it may come in a second chunk), then advance one interval at a time.
      let got = data.length;
      const more = () =>
        new Promise<number>((resolve) => {
          socket.once('data', (c: Buffer) => resolve(c.length));
          socket.resume();
        });
      if (got < headLength + 1) got += await more();
      expect(got).toBe(headLength + 1);
      for (let k = 2; k <= 4; k++) {
        const next = more();
        vi.advanceTimersByTime(1000);
        got += await next;
        expect(got).toBe(headLength + k);
      }
      socket.destroy();
      await vi.waitFor(() => expect(server.openSockets()).toBe(0));
    } finally {
      vi.useRealTimers();
      await server.close();
    }
  });
});
