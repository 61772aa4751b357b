import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ConnectionEvents,
  type ConnectionKind,
  connectTcp,
  DEFAULT_CONNECTION_KIND,
} from '../../src/checks/tcp/connection.js';
import {
  closedPort,
  startBanner,
  startReset,
  startTarpit,
  type TestServer,
  waitForSocketHandles,
} from '../helpers/misbehaving-servers.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(start: Promise<TestServer>): Promise<TestServer> {
  const s = await start;
  servers.push(s);
  return s;
}

/** Every event a connection reported, in order, and what it read. */
class Recorder implements ConnectionEvents {
  readonly events: string[] = [];
  text = '';
  #waiters: { until: (r: Recorder) => boolean; resolve: () => void }[] = [];

  handleConnect(): void {
    this.#note('connect');
  }
  handleData(buf: Buffer, len: number): void {
    this.text += buf.toString('latin1', 0, len);
    this.#note('data');
  }
  handleEnd(): void {
    this.#note('end');
  }
  handleError(code: string): void {
    this.#note(`error ${code}`);
  }

  /** Resolves once `until` holds (checked after every event). */
  when(until: (r: Recorder) => boolean): Promise<void> {
    if (until(this)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ until, resolve }));
  }

  #note(event: string): void {
    this.events.push(event);
    this.#waiters = this.#waiters.filter((w) => {
      if (!w.until(this)) return true;
      w.resolve();
      return false;
    });
  }
}

/** A server that answers each connection with the bytes it read, ASCII and latin1 letters uppercased, and ends it. */
function startUpper(host = '127.0.0.1'): Promise<TestServer> {
  return new Promise((resolve) => {
    const server = net.createServer((socket) => {
      socket.once('data', (chunk) =>
        socket.end(Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1')),
      );
    });
    server.listen(0, host, () =>
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      } as TestServer),
    );
  });
}

const ipv6 = await new Promise<boolean>((resolve) => {
  const srv = net.createServer();
  srv.once('error', () => resolve(false));
  srv.listen(0, '::1', () => srv.close(() => resolve(true)));
});

/**
 * Connects to the uppercasing server at `host:port` over `kind`, writes `text` once connected and waits for
 * the server's end: what the connection reported and read.
 */
async function roundTrip(
  host: string,
  port: number,
  text: string,
  encoding: 'latin1' | 'utf8',
  kind: ConnectionKind,
): Promise<Recorder> {
  const r = new Recorder();
  const conn = connectTcp(host, port, r, kind);
  await r.when((x) => x.events.includes('connect'));
  conn.write(text, encoding);
  await r.when((x) => x.events.includes('end'));
  conn.close();
  conn.close(); // a second close is harmless
  return r;
}

describe('tcp connection', () => {
  it('is made on the TCP handle by default on this runtime (net.Socket when asked)', () => {
    expect(DEFAULT_CONNECTION_KIND).toBe(process.env.FLEETPROBE_NET_SOCKETS === '1' ? 'socket' : 'handle');
  });

  describe.each<ConnectionKind>(['handle', 'socket'])('on a %s', (kind) => {
    it('connects, writes, reads and hears the end', async () => {
      const s = await serve(startUpper());
      const r = await roundTrip('127.0.0.1', s.port, 'héllo', 'utf8', kind);
      // é's two UTF-8 bytes read as latin1 have no upper case.
      expect(Buffer.from(r.text, 'latin1').toString('utf8')).toBe('HéLLO');
      expect(r.events[0]).toBe('connect');
      expect(r.events.at(-1)).toBe('end');
      expect(r.events.filter((e) => e.startsWith('error'))).toEqual([]);
      await waitForSocketHandles(1);
    });

    it('writes latin1 bytes as they are', async () => {
      const s = await serve(startUpper());
      const r = await roundTrip('127.0.0.1', s.port, 'ab\u00e9', 'latin1', kind);
      expect(Buffer.from(r.text, 'latin1')).toEqual(Buffer.from([0x41, 0x42, 0xc9]));
    });

    it('reads a banner the server sends first', async () => {
      const s = await serve(startBanner('SSH-2.0-test\r\n'));
      const r = new Recorder();
      const conn = connectTcp('127.0.0.1', s.port, r, kind);
      await r.when((x) => x.text.includes('\r\n'));
      expect(r.text).toBe('SSH-2.0-test\r\n');
      conn.close();
    });

    it('reports a refused connect as ECONNREFUSED, once', async () => {
      const r = new Recorder();
      const conn = connectTcp('127.0.0.1', await closedPort(), r, kind);
      await r.when((x) => x.events.length > 0);
      await sleep(20);
      expect(r.events).toEqual(['error ECONNREFUSED']);
      conn.close();
      await waitForSocketHandles(0);
    });

    it('reports a reset after connect', async () => {
      const s = await serve(startReset());
      const r = new Recorder();
      const conn = connectTcp('127.0.0.1', s.port, r, kind);
      await r.when((x) => x.events.some((e) => e.startsWith('error') || e === 'end'));
      await sleep(20);
      // The reset can come before the connect is seen to complete; after it, nothing.
      expect(r.events.filter((e) => e !== 'connect')).toEqual(['error ECONNRESET']);
      conn.close();
    });

    it('reports nothing after close, and frees the handle', async () => {
      const s = await serve(startTarpit());
      const r = new Recorder();
      const conn = connectTcp('127.0.0.1', s.port, r, kind);
      await r.when((x) => x.events.includes('connect'));
      conn.close();
      await sleep(50);
      await s.close();
      servers.length = 0;
      await waitForSocketHandles(0);
      expect(r.events).toEqual(['connect']);
    });

    it('can be closed before it connects, reporting nothing', async () => {
      const r = new Recorder();
      const conn = connectTcp('127.0.0.1', await closedPort(), r, kind);
      conn.close();
      await sleep(50);
      await waitForSocketHandles(0);
      expect(r.events).toEqual([]);
    });

    // Where ::1 cannot listen the case is skipped, except under CI, where that is a failure.
    it.runIf(ipv6 || process.env.CI === 'true')('connects over IPv6', async () => {
      const s = await serve(startUpper('::1'));
      const r = await roundTrip('::1', s.port, 'v6', 'latin1', kind);
      expect(r.text).toBe('V6');
    });
  });
});
