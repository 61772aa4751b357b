import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSimCerts, type SimCerts } from '../../src/sim/certs.js';
import { createFleetModel } from '../../src/sim/fleet.js';
import { startSimHttpsServer } from '../../src/sim/https-server.js';
import { parseProfile } from '../../src/sim/profile.js';
import type { SimServer } from '../../src/sim/sim-server.js';
import { startSimTcpServer } from '../../src/sim/tcp-server.js';
import { exchange } from './raw-client.js';

// 127.20.10.<i>: 0 healthy, 1 expired cert, 2 wrong-name cert, 3 tarpit, 4 garbage, 5 refused, 6 http5xx.
const model = createFleetModel({
  hosts: 7,
  base: '127.20.10.0',
  profile: parseProfile(
    {
      ranges: [
        { from: 1, to: 1, tls: 'expired-cert' },
        { from: 2, to: 2, tls: 'wrong-name-cert' },
        { from: 3, to: 3, http: 'tarpit', tcp: 'tarpit' },
        { from: 4, to: 4, http: 'garbage', tcp: 'reset' },
        { from: 5, to: 5, http: 'refused', tcp: 'refused' },
        { from: 6, to: 6, http: 'http5xx' },
      ],
    },
    'test',
  ),
});

interface HttpsOutcome {
  status?: number;
  body?: string;
  code?: string;
}

function get(i: number, port: number, ca: string): Promise<HttpsOutcome> {
  return new Promise((resolve) => {
    const req = https.get(
      { host: `127.20.10.${i}`, port, servername: `h${i}.fleet.test`, ca, agent: false, path: '/' },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      },
    );
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ code: err.code ?? 'UNKNOWN' }));
  });
}

describe('sim HTTPS server', () => {
  let dir: string;
  let certs: SimCerts;
  let server: SimServer;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fp-sim-tls-'));
    certs = await generateSimCerts(dir, 'fleet.test');
    server = await startSimHttpsServer(model, certs, { port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('healthy: a valid *.fleet.test certificate from the CA, then 200 ok', async () => {
    expect(await get(0, server.port, certs.ca)).toEqual({ status: 200, body: 'ok h0\n' });
  });

  it('expired and wrong-name certificates fail verification', async () => {
    expect((await get(1, server.port, certs.ca)).code).toBe('CERT_HAS_EXPIRED');
    expect((await get(2, server.port, certs.ca)).code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });

  it('HTTP faults act inside TLS (503) and before it (garbage, refused)', async () => {
    expect((await get(6, server.port, certs.ca)).status).toBe(503);
    expect((await get(4, server.port, certs.ca)).code).toBeDefined();
    expect((await get(5, server.port, certs.ca)).code).toMatch(/^(ECONNRESET|EPIPE)$/);
  });

  it('tarpit: accepts and never starts the handshake', async () => {
    const socket = net.connect({ host: '127.20.10.3', port: server.port });
    let received = 0;
    socket.on('data', (c: Buffer) => (received += c.length));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 0, 0, 1, 0])); // a (truncated) ClientHello
    expect((await get(0, server.port, certs.ca)).status).toBe(200); // handshake: a later exchange completed
    await vi.waitFor(() => expect(server.openSockets()).toBe(1));
    expect(received).toBe(0);
    socket.destroy();
    await vi.waitFor(() => expect(server.openSockets()).toBe(0));
  });
});

describe('sim TCP server', () => {
  let server: SimServer;
  beforeAll(async () => {
    server = await startSimTcpServer(model, { port: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it('healthy: writes the banner and closes', async () => {
    const r = await exchange('127.20.10.0', server.port, undefined);
    expect(r.errorCode).toBeUndefined();
    expect(r.data.toString()).toBe('fleetprobe-sim h0\r\n');
  });

  it('reset and refused: reset right after accept', async () => {
    for (const i of [4, 5]) {
      const r = await exchange(`127.20.10.${i}`, server.port, undefined);
      expect(r.errorCode).toBe('ECONNRESET');
    }
  });

  it('tarpit: open and silent until the client closes', async () => {
    const socket = net.connect({ host: '127.20.10.3', port: server.port });
    let received = 0;
    socket.on('data', (c: Buffer) => (received += c.length));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const healthy = await exchange('127.20.10.0', server.port, undefined);
    expect(healthy.data.toString()).toMatch(/^fleetprobe-sim h0/);
    await vi.waitFor(() => expect(server.openSockets()).toBe(1));
    expect(received).toBe(0);
    socket.destroy();
    await vi.waitFor(() => expect(server.openSockets()).toBe(0));
  });

  it('close() destroys held connections', async () => {
    const other = await startSimTcpServer(model, { port: 0 });
    const socket = net.connect({ host: '127.20.10.3', port: other.port });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    await vi.waitFor(() => expect(other.openSockets()).toBe(1));
    await other.close();
    await closed;
    expect(other.openSockets()).toBe(0);
  });
});
