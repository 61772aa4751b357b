/**
 * The fastest plain Node HTTP sweep we know how to write: the ceiling fleetprobe's `run http` is measured
 * against (bench/sweep.ts --bare). One connection per host on libuv's TCP handle (`--io handle`, the default,
 * as fleetprobe's plain connections) or on bare `net` (`--io net`), `GET /` HTTP/1.1 with
 * `Connection: close`, reads into one shared buffer (no Buffer per read), parses the status code and
 * Content-Length, and closes as soon as the body is complete. No engine, no deadlines, no output per host:
 * only counts. With `--jsonl <file>`, the least a prober must add: one JSON result line per host (target,
 * status, duration, start time, the HTTP status), gathered into ~64 KiB chunks and written to the file (from
 * worker threads the chunks are posted to the main thread, which writes them). Plain JavaScript so it starts
 * like any node program (no loader), and can be timed whole, as curl and the fleetprobe CLI are.
 *
 *   node bench/bare-http.mjs --base 127.40.0.0 --hosts 20000 --port 8080 --concurrency 1000 [--threads 2]
 *     [--io handle|net] [--jsonl /dev/null]
 *
 * Hosts are `base + i`. With `--threads N` (N > 1) the hosts are cut into N contiguous ranges, each swept by a
 * worker thread at concurrency / N; the main thread only waits. Prints one JSON line:
 * `{"ok":…,"failed":…,"sweepS":…,"startS":…}` (`startS`: process start to the first connect). Exit 0.
 * Only loopback addresses are dialled (a base outside 127.0.0.0/8 is refused).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import net from 'node:net';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** `\r\n\r\n` */
const HEAD_END = 0x0d0a0d0a;
const CHUNK_CHARS = 64 * 1024;

let isoSecond = -1;
let isoPrefix = '';
/** `Date.prototype.toISOString` of epoch `ms`, its date and time formatted once per second. */
function isoTime(ms) {
  const second = Math.floor(ms / 1000);
  if (second !== isoSecond) {
    isoSecond = second;
    isoPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  return `${isoPrefix}${String(ms % 1000).padStart(3, '0')}Z`;
}

/** 127.40.0.0 -> integer. */
function ipv4ToInt(text) {
  const p = text.split('.').map(Number);
  return ((p[0] << 24) >>> 0) + (p[1] << 16) + (p[2] << 8) + p[3];
}

function intToIpv4(n) {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The Content-Length value in `buf[from, to)` (a header block), or -1. Lower-case compare of the name. */
function contentLength(buf, from, to) {
  const text = buf.latin1Slice(from, to).toLowerCase();
  const at = text.indexOf('\r\ncontent-length:');
  if (at < 0) return -1;
  return Number.parseInt(text.slice(at + 17, text.indexOf('\r\n', at + 17)), 10);
}

/**
 * Opens a connection to `host:port` for `c` (the sweep's state of one host) the way `io` says: `net` (a
 * `net.Socket` reading into READ_BUFFER through `onread`) or `handle` (libuv's TCP handle from Node's
 * `tcp_wrap` binding, as fleetprobe's plain connections are made: src/checks/tcp/connection.ts). Calls
 * `connected(c)`, `read(c, nread)` (bytes in READ_BUFFER) and `ended(c)` (end, error or close); returns
 * `{ write(text), close() }` (latin1 text).
 */
function open(io, host, port, c, connected, read, ended) {
  if (io === 'net') {
    const socket = net.connect({ host, port, onread: { buffer: READ_BUFFER, callback: onSocketRead } });
    socket.c = c;
    socket.sweep = { connected, read, ended };
    // Shared listeners (`this` is the socket): no closures per host.
    socket.on('connect', onSocketConnect);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketEnd);
    socket.on('close', onSocketEnd);
    return { write: (text) => socket.write(text, 'latin1'), close: () => socket.destroy() };
  }
  const handle = new TCP(TCP_SOCKET);
  handle.onread = () => {
    const nread = streamBaseState[kReadBytesOrError];
    if (nread > 0) read(c, nread);
    else if (nread < 0) ended(c);
  };
  handle.useUserBuffer(READ_BUFFER);
  const req = new TCPConnectWrap();
  req.oncomplete = (status) => {
    if (status < 0 || handle.readStart() < 0) ended(c);
    else connected(c);
  };
  req.address = host;
  req.port = port;
  if (handle.connect(req, host, port) < 0) queueMicrotask(() => ended(c));
  return {
    write(text) {
      const w = new WriteWrap();
      w.handle = handle;
      w.oncomplete = () => {};
      w.async = false;
      if (handle.writeLatin1String(w, text) < 0) queueMicrotask(() => ended(c));
    },
    close() {
      handle.onread = () => {};
      handle.close();
    },
  };
}

function onSocketConnect() {
  this.sweep.connected(this.c);
}
function onSocketRead(nread) {
  this.sweep.read(this.c, nread);
  return true;
}
function onSocketEnd() {
  this.sweep.ended(this.c);
}

const { TCP, TCPConnectWrap, constants } = process.binding('tcp_wrap');
const { WriteWrap, kReadBytesOrError, streamBaseState } = process.binding('stream_wrap');
const TCP_SOCKET = constants.SOCKET;

/**
 * Sweeps hosts `first .. first + count - 1` (as integers) on `port`, `concurrency` at a time, over `io`
 * (`open`); resolves with `{ ok, failed }` (ok: status 200 and the whole body read). With `emit`, each
 * host's result line goes into a chunk handed to `emit` when full, and at the end.
 */
export function sweep(io, first, count, port, concurrency, emit) {
  return new Promise((resolve) => {
    let next = 0;
    let inFlight = 0;
    let ok = 0;
    let failed = 0;
    let chunk = '';
    const record = (c, passed) => {
      // Built by hand, not with JSON.stringify (as fleetprobe's own line writer avoids it): the cheapest line.
      const durationMs = Math.round((performance.now() - c.startedMs) * 100) / 100;
      chunk += `{"target":"${c.host}","port":${port},"check":"http","status":"${passed ? 'pass' : 'fail'}","durationMs":${durationMs},"startedAt":"${isoTime(c.startedAt)}","message":"${c.status}","data":{"status":${c.status}}}\n`;
      if (chunk.length >= CHUNK_CHARS) {
        emit(chunk);
        chunk = '';
      }
    };
    const finish = () => {
      if (emit && chunk.length > 0) emit(chunk);
      resolve({ ok, failed });
    };
    const done = (c, passed) => {
      if (c.finished) return;
      c.finished = true;
      c.conn.close();
      if (passed) ok++;
      else failed++;
      if (emit) record(c, passed);
      inFlight--;
      if (next < count) start();
      else if (inFlight === 0) finish();
    };
    const connected = (c) => c.conn.write(c.request);
    const read = (c, nread) => {
      // The head is in the first read (nginx's answer is ~150 bytes): status at 9..12, then Content-Length.
      if (c.status === 0) {
        c.status =
          nread >= 12 ? (READ_BUFFER[9] - 48) * 100 + (READ_BUFFER[10] - 48) * 10 + READ_BUFFER[11] - 48 : -1;
        let end = -1;
        for (let i = 3; i < nread; i++) {
          if (READ_BUFFER.readUInt32BE(i - 3) === HEAD_END) {
            end = i + 1;
            break;
          }
        }
        if (end < 0) {
          done(c, false);
          return;
        }
        c.remaining = contentLength(READ_BUFFER, 0, end) - (nread - end);
      } else {
        c.remaining -= nread;
      }
      if (c.remaining <= 0) done(c, c.status === 200 && c.remaining === 0);
    };
    const ended = (c) => done(c, false);
    function start() {
      const host = intToIpv4(first + next++);
      inFlight++;
      const c = {
        conn: undefined,
        host,
        request: `GET / HTTP/1.1\r\nHost: ${host}:${port}\r\nUser-Agent: bare\r\nAccept: */*\r\nConnection: close\r\n\r\n`,
        status: 0,
        remaining: 0,
        finished: false,
        startedAt: emit ? Date.now() : 0,
        startedMs: emit ? performance.now() : 0,
      };
      c.conn = open(io, host, port, c, connected, read, ended);
    }
    if (count === 0) finish();
    for (let i = 0; i < Math.min(concurrency, count); i++) start();
  });
}

if (isMainThread) {
  const { values } = parseArgs({
    options: {
      base: { type: 'string', default: '127.40.0.0' },
      hosts: { type: 'string', default: '20000' },
      port: { type: 'string' },
      concurrency: { type: 'string', default: '1000' },
      threads: { type: 'string', default: '1' },
      io: { type: 'string', default: 'handle' },
      jsonl: { type: 'string' },
    },
  });
  const base = ipv4ToInt(values.base);
  const hosts = Number(values.hosts);
  const port = Number(values.port);
  const concurrency = Number(values.concurrency);
  const threads = Number(values.threads);
  const io = values.io;
  if (io !== 'handle' && io !== 'net') throw new Error('--io must be handle or net');
  const out = values.jsonl === undefined ? undefined : openSync(values.jsonl, 'w');
  const write = out === undefined ? undefined : (chunk) => writeSync(out, chunk);
  if (base >>> 24 !== 127 || (base + hosts - 1) >>> 24 !== 127)
    throw new Error('hosts must stay in 127.0.0.0/8');
  const startS = performance.now() / 1000;
  const t0 = performance.now();
  let result;
  if (threads <= 1) {
    result = await sweep(io, base, hosts, port, concurrency, write);
  } else {
    const parts = await Promise.all(
      Array.from({ length: threads }, (_, t) => {
        const from = Math.floor((hosts * t) / threads);
        const to = Math.floor((hosts * (t + 1)) / threads);
        const worker = new Worker(new URL(import.meta.url), {
          workerData: {
            io,
            first: base + from,
            count: to - from,
            port,
            concurrency: Math.ceil(concurrency / threads),
            jsonl: write !== undefined,
          },
        });
        return new Promise((resolve, reject) => {
          worker.on('message', (message) =>
            typeof message === 'string' ? write(message) : resolve(message),
          );
          worker.once('error', reject);
        });
      }),
    );
    result = parts.reduce((a, b) => ({ ok: a.ok + b.ok, failed: a.failed + b.failed }));
  }
  if (out !== undefined) closeSync(out);
  const sweepS = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ ...result, sweepS, startS })}\n`);
} else {
  const { io, first, count, port, concurrency, jsonl } = workerData;
  const post = jsonl ? (chunk) => parentPort.postMessage(chunk) : undefined;
  parentPort.postMessage(await sweep(io, first, count, port, concurrency, post));
}
