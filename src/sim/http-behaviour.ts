import type net from 'node:net';
import type { SimHost } from './fleet-model.js';

/** Knobs of the HTTP behaviours (tests shorten the drip). */
export interface HttpBehaviourOptions {
  /** Interval between bytes of a `drip-body` response, default 1000 ms. */
  readonly dripIntervalMs?: number;
}

/** Length of a `drip-body` response (one byte per interval). */
export const DRIP_BODY_BYTES = 1000;
const MAX_HEADER_BYTES = 16 * 1024;
const ENDLESS_CHUNK = Buffer.alloc(64 * 1024, 'endless-body '.repeat(8));

/** Bytes that are not HTTP (nor TLS): what a `garbage` host answers. Never starts with `HTTP/`. */
export const GARBAGE = Buffer.from('\x00\xff\x13garbage from fleetprobe-sim\x07\r\n\x00\x01\x02\xfe\r\n\r\n');

/** The body of a healthy host: `ok h<i>\n`. */
export function healthyBody(host: SimHost): string {
  return `ok h${host.index}\n`;
}

function response(status: string, body: string): string {
  return `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** A `Misdirected Request` for a connection to an address outside the fleet. */
export const MISDIRECTED = response('421 Misdirected Request', 'not a fleetprobe-sim host\n');

/**
 * Waits for one request head on `socket` (HTTP/1.1, Connection: close semantics), then behaves as the
 * host's HTTP fault says. `raw` is the TCP socket underneath (the same socket for plain HTTP), used to
 * reset. Connection-level faults (tarpit, refused, garbage before TLS) are the caller's job.
 * Holds no state beyond the socket's own closures; every timer is cleared on 'close'.
 */
export function serveHttp(
  socket: net.Socket,
  raw: net.Socket,
  host: SimHost,
  options: HttpBehaviourOptions,
): void {
  let head: Buffer = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    if (head.indexOf('\r\n\r\n') >= 0) {
      socket.off('data', onData);
      socket.resume(); // drain any request body; we never read it
      respond(socket, raw, host, options);
    } else if (head.length > MAX_HEADER_BYTES) {
      socket.off('data', onData);
      socket.end(response('431 Request Header Fields Too Large', 'too large\n'));
    }
  };
  socket.on('data', onData);
}

function respond(socket: net.Socket, raw: net.Socket, host: SimHost, options: HttpBehaviourOptions): void {
  switch (host.http) {
    case 'healthy':
      socket.end(response('200 OK', healthyBody(host)));
      return;
    case 'slow': {
      const timer = setTimeout(() => socket.end(response('200 OK', healthyBody(host))), host.latencyMs);
      socket.once('close', () => clearTimeout(timer));
      return;
    }
    case 'tarpit':
      return; // read the request, never answer: held until the client gives up
    case 'reset':
    case 'refused':
      raw.resetAndDestroy();
      return;
    case 'garbage':
      socket.end(GARBAGE);
      return;
    case 'http5xx':
      socket.end(response('503 Service Unavailable', `unavailable h${host.index}\n`));
      return;
    case 'wrong-body':
      socket.end(response('200 OK', 'wrong\n'));
      return;
    case 'endless-body':
      endless(socket);
      return;
    case 'drip-body':
      drip(socket, host, options.dripIntervalMs ?? 1000);
      return;
    default:
      host.http satisfies never;
  }
}

function endless(socket: net.Socket): void {
  socket.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n');
  const pump = () => {
    // Write until the socket buffers are full, then wait for 'drain': backpressure, bounded memory.
    while (!socket.destroyed && socket.write(ENDLESS_CHUNK)) {}
  };
  socket.on('drain', pump);
  pump();
}

function drip(socket: net.Socket, host: SimHost, intervalMs: number): void {
  const body = healthyBody(host).padEnd(DRIP_BODY_BYTES, '.');
  socket.write(
    `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${DRIP_BODY_BYTES}\r\nConnection: close\r\n\r\n`,
  );
  socket.write(body[0]!);
  let sent = 1;
  const timer = setInterval(() => {
    if (socket.destroyed) return;
    socket.write(body[sent++]!);
    if (sent >= DRIP_BODY_BYTES) {
      clearInterval(timer);
      socket.end();
    }
  }, intervalMs);
  socket.once('close', () => clearInterval(timer));
}
