/**
 * Loopback servers that behave well or badly, for tests of checks and of the engine's timeout handling.
 * Each `start*` listens on 127.0.0.1 port 0 and returns a `TestServer`: its port, counters of accepted and
 * closed connections (so a test can assert that a timed-out check really *destroyed* its socket), and
 * `close()`, which destroys whatever is still connected and resolves when the listener is closed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { freePort } from '../../src/sim/ssh/sshd.js';

export interface TestServer {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  accepted(): number;
  /** Accepted connections that are still open on the server side. */
  open(): number;
  /** Resolves once at least `n` connections were accepted. */
  waitAccepted(n?: number): Promise<void>;
  /**
   * Resolves once at least one connection was accepted and every accepted one has closed on the server
   * side; rejects after `timeoutMs` (default 2000) with the number still open.
   */
  waitAllClosed(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

type Listener = net.Server | tls.Server | http.Server;

function track(server: Listener) {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let waiters: Array<() => void> = [];
  const notify = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  // Count at the TCP level even for TLS servers, so a socket dropped during the handshake is seen too.
  server.on('connection', (socket: net.Socket) => {
    accepted++;
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      notify();
    });
    socket.on('error', () => {});
    notify();
  });
  const waitFor = (cond: () => boolean, timeoutMs: number, what: () => string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`)),
        timeoutMs,
      );
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
    });
  return {
    sockets,
    accepted: () => accepted,
    open: () => sockets.size,
    waitAccepted: (n = 1) =>
      waitFor(
        () => accepted >= n,
        10_000,
        () => `${n} accepted connection(s)`,
      ),
    waitAllClosed: (timeoutMs = 2000) =>
      waitFor(
        () => accepted > 0 && sockets.size === 0,
        timeoutMs,
        () => `${sockets.size} of ${accepted} connection(s) to close`,
      ),
  };
}

async function listen(server: Listener): Promise<TestServer> {
  const t = track(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    accepted: t.accepted,
    open: t.open,
    waitAccepted: t.waitAccepted,
    waitAllClosed: t.waitAllClosed,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of t.sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Accepts and holds the connection: never sends a byte, never closes. */
export function startTarpit(): Promise<TestServer> {
  return listen(net.createServer((socket) => socket.resume()));
}

/** Resets every connection as soon as it is accepted (TCP RST). */
export function startReset(): Promise<TestServer> {
  return listen(net.createServer((socket) => socket.resetAndDestroy()));
}

/** Sends bytes that are not HTTP (nor any protocol), then closes. */
export function startGarbage(
  payload: string | Buffer = Buffer.from('\u0000\u00ffgarbage \u0001\u0002\r\n\r\n'),
): Promise<TestServer> {
  return listen(net.createServer((socket) => socket.end(payload)));
}

/** Sends `banner` on connect, then echoes nothing and holds the connection (a line-protocol server). */
export function startBanner(banner: string): Promise<TestServer> {
  return listen(
    net.createServer((socket) => {
      socket.resume();
      socket.write(banner);
    }),
  );
}

const HEAD_200_CLOSE =
  'HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n';

/** Answers `200` with a close-delimited body that never ends (written as fast as the client reads). */
export function startEndlessBody(): Promise<TestServer> {
  const block = Buffer.alloc(16 * 1024, 'x');
  return listen(
    net.createServer((socket) => {
      socket.resume();
      socket.write(HEAD_200_CLOSE);
      const pump = () => {
        while (!socket.destroyed && socket.write(block)) {
          /* until the kernel buffer is full */
        }
      };
      socket.on('drain', pump);
      pump();
    }),
  );
}

/** Answers `200` and then sends one body byte every `intervalMs` (default 1000), forever. */
export function startDripBody(intervalMs = 1000): Promise<TestServer> {
  return listen(
    net.createServer((socket) => {
      socket.resume();
      socket.write(HEAD_200_CLOSE);
      socket.write('o');
      const timer = setInterval(() => socket.write('k'), intervalMs);
      socket.once('close', () => clearInterval(timer));
    }),
  );
}

/** Sends half a header block and then holds the connection. */
export function startHalfHeaders(): Promise<TestServer> {
  return listen(
    net.createServer((socket) => {
      socket.resume();
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: te');
    }),
  );
}

export interface HttpReply {
  status?: number;
  body?: string;
  headers?: Record<string, string>;
}

/** A node:http server; `reply` may be a fixed reply or a handler. Default: `200` with body `ok\n`. */
export function startHttp(reply: HttpReply | http.RequestListener = {}): Promise<TestServer> {
  const handler: http.RequestListener =
    typeof reply === 'function'
      ? reply
      : (_req, res) => {
          res.writeHead(reply.status ?? 200, { 'content-type': 'text/plain', ...reply.headers });
          res.end(reply.body ?? 'ok\n');
        };
  return listen(http.createServer(handler));
}

/** A healthy HTTP server: `200 OK`, body `ok\n`. */
export function startHealthy(): Promise<TestServer> {
  return startHttp();
}

/** Always answers `503 Service Unavailable`. */
export function startUnavailable(): Promise<TestServer> {
  return startHttp({ status: 503, body: 'down\n' });
}

export interface TestCerts {
  readonly dir: string;
  /** PEM path of the test CA (pass as the http check's `ca`). */
  readonly caPath: string;
  readonly ca: Buffer;
  /** Leaf for `localhost` and 127.0.0.1, signed by the CA. */
  readonly key: Buffer;
  readonly cert: Buffer;
  readonly validDays: number;
  remove(): void;
}

/** Makes a CA and a leaf certificate (SAN localhost, 127.0.0.1) valid `validDays` with `openssl`. */
export function makeTestCerts(validDays = 30): TestCerts {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fp-certs-'));
  const p = (f: string) => path.join(dir, f);
  const ossl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ossl(
    ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', String(validDays + 1)]
      .concat(['-subj', '/CN=fleetprobe test CA', '-addext', 'basicConstraints=critical,CA:TRUE'])
      .concat(['-addext', 'keyUsage=critical,keyCertSign,cRLSign']),
  );
  ossl(['req', ...ec, '-keyout', p('leaf.key'), '-out', p('leaf.csr'), '-subj', '/CN=localhost']);
  writeFileSync(p('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  ossl(
    [
      'x509',
      '-req',
      '-in',
      p('leaf.csr'),
      '-CA',
      p('ca.pem'),
      '-CAkey',
      p('ca.key'),
      '-CAcreateserial',
    ].concat(['-out', p('leaf.pem'), '-days', String(validDays), '-extfile', p('ext.cnf')]),
  );
  return {
    dir,
    caPath: p('ca.pem'),
    ca: readFileSync(p('ca.pem')),
    key: readFileSync(p('leaf.key')),
    cert: readFileSync(p('leaf.pem')),
    validDays,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** An HTTPS server with the given certificate; default `200` with body `ok\n`. */
export function startHttps(
  certs: Pick<TestCerts, 'key' | 'cert'>,
  reply: HttpReply = {},
): Promise<TestServer> {
  const server = tls.createServer({ key: certs.key, cert: certs.cert }, (socket) => {
    socket.on('error', () => {});
    socket.once('data', () => {
      const body = reply.body ?? 'ok\n';
      const extra = Object.entries(reply.headers ?? {})
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('');
      socket.end(
        `HTTP/1.1 ${reply.status ?? 200} X\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`,
      );
    });
  });
  server.on('tlsClientError', () => {});
  return listen(server);
}

/** Handles of kinds that hold sockets, to compare before and after a test (leak check). */
export function socketHandleCount(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap')
    .length;
}

/**
 * Resolves once `socketHandleCount()` is at most `max` (closing handles leave the list a loop turn after
 * `destroy()`); rejects after `timeoutMs` (default 2000) with the handles still listed.
 */
export async function waitForSocketHandles(max: number, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (socketHandleCount() > max) {
    if (Date.now() > until) {
      throw new Error(
        `socket handles still open: ${process.getActiveResourcesInfo().join(', ')} (want <= ${max})`,
      );
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A port on 127.0.0.1 with nothing listening (one that was free a moment ago): a connect to it is refused. */
export function closedPort(): Promise<number> {
  return freePort('127.0.0.1');
}
