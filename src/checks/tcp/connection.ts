import net from 'node:net';
import { getSystemErrorName } from 'node:util';
import { socketErrorCode } from './socket-errors.js';

/**
 * What a check hears from its connection. Each `handle*` is called at most once but `handleData`, and none
 * after the connection was closed.
 */
export interface ConnectionEvents {
  /** The TCP connection opened. */
  handleConnect(): void;
  /** Bytes `0..len` of `buf` were read. `buf` may be shared by every connection: copy what you keep. */
  handleData(buf: Buffer, len: number): void;
  /** The peer ended its side. */
  handleEnd(): void;
  /** Connect, read or write failed; `code` is the errno name (`ECONNREFUSED`) or the error's message. */
  handleError(code: string): void;
}

/** An open or opening TCP connection of one check. */
export interface Connection {
  /** Writes `text` (its latin1 or UTF-8 bytes); a failure comes as `handleError`. */
  write(text: string, encoding: 'latin1' | 'utf8'): void;
  /** Closes the connection (at once, unsent data dropped); no event follows. Safe to call twice. */
  close(): void;
}

/**
 * The buffer every plain connection reads into: no Buffer is allocated per read. Each read is handed to its
 * check before the next one can arrive (one thread), so sharing is safe as long as nothing keeps a view of it.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/**
 * How plain connections are made: on Node's TCP handle directly (`handle`, where the binding can be had), or
 * on `net.Socket` (`socket`; also with `FLEETPROBE_NET_SOCKETS=1`).
 */
export type ConnectionKind = 'handle' | 'socket';

/**
 * Opens a plain TCP connection to `host` (an IP address, v4 or v6) on `port`, reporting to `events`; `kind`
 * falls back to `socket` where there is no handle binding.
 */
export function connectTcp(
  host: string,
  port: number,
  events: ConnectionEvents,
  kind: ConnectionKind = DEFAULT_CONNECTION_KIND,
): Connection {
  return kind === 'handle' && TCP_BINDING !== undefined
    ? new HandleConnection(TCP_BINDING, host, port, events)
    : new SocketConnection(
        net.connect({ host, port, onread: { buffer: READ_BUFFER, callback: onRead } }),
        events,
        'onread',
      );
}

// --- On Node's TCP handle -------------------------------------------------------------------------------

/**
 * The parts of Node's `tcp_wrap` and `stream_wrap` bindings (what `net.Socket` is built on) that a connection
 * uses: libuv's TCP handle with its connect and write requests, and the shared slot where a read's byte count
 * (or negative errno) arrives.
 */
interface TcpBinding {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectRequest;
  WriteWrap: new () => WriteRequest;
  socketType: number;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
}

interface TcpHandle {
  onread: (this: TcpHandle) => void;
  [OWNER]?: HandleConnection;
  connect(req: ConnectRequest, address: string, port: number): number;
  connect6(req: ConnectRequest, address: string, port: number): number;
  useUserBuffer(buf: Uint8Array): void;
  readStart(): number;
  writeLatin1String(req: WriteRequest, text: string): number;
  writeUtf8String(req: WriteRequest, text: string): number;
  close(): void;
}

interface ConnectRequest {
  oncomplete: (status: number, handle: TcpHandle) => void;
  address: string;
  port: number;
}

interface WriteRequest {
  handle: TcpHandle;
  oncomplete: (status: number, handle: TcpHandle) => void;
  async: boolean;
}

const OWNER = Symbol('fleetprobe.connection');

/**
 * Node's TCP binding, or undefined where it cannot be had (a runtime without `process.binding`, or the
 * permission model, which refuses it): then connections go through `net.Socket`, as TLS ones always do.
 * `process.binding` is deprecated in the documentation only (DEP0111); `--pending-deprecation` would warn
 * once on stderr, which this load keeps quiet.
 */
function loadTcpBinding(): TcpBinding | undefined {
  const quiet = process.noDeprecation;
  process.noDeprecation = true;
  try {
    // biome-ignore lint/suspicious/noExplicitAny: the bindings are untyped; their shape is checked below.
    const bind = (process as any).binding as (name: string) => any;
    const tcp = bind('tcp_wrap');
    const stream = bind('stream_wrap');
    const binding: TcpBinding = {
      TCP: tcp.TCP,
      TCPConnectWrap: tcp.TCPConnectWrap,
      WriteWrap: stream.WriteWrap,
      socketType: tcp.constants?.SOCKET,
      streamBaseState: stream.streamBaseState,
      kReadBytesOrError: stream.kReadBytesOrError,
    };
    const complete =
      typeof binding.TCP === 'function' &&
      typeof binding.TCPConnectWrap === 'function' &&
      typeof binding.WriteWrap === 'function' &&
      typeof binding.socketType === 'number' &&
      binding.streamBaseState instanceof Int32Array &&
      typeof binding.kReadBytesOrError === 'number' &&
      [
        'connect',
        'connect6',
        'useUserBuffer',
        'readStart',
        'writeLatin1String',
        'writeUtf8String',
        'close',
      ].every((method) => typeof binding.TCP.prototype[method as keyof TcpHandle] === 'function');
    return complete ? binding : undefined;
  } catch {
    return undefined;
  } finally {
    process.noDeprecation = quiet;
  }
}

const TCP_BINDING = loadTcpBinding();

/** What `connectTcp` makes by default here. */
export const DEFAULT_CONNECTION_KIND: ConnectionKind =
  TCP_BINDING !== undefined && process.env.FLEETPROBE_NET_SOCKETS !== '1' ? 'handle' : 'socket';

/** libuv's end of stream (`UV_EOF`). */
const UV_EOF = -4095;

function noop(): void {}

// Shared callbacks (the handle or request is `this` or an argument): no closures per connection.
function onHandleConnect(status: number, handle: TcpHandle): void {
  handle[OWNER]?.connected(status);
}
function onHandleRead(this: TcpHandle): void {
  this[OWNER]?.read();
}
function onHandleWritten(status: number, handle: TcpHandle): void {
  if (status < 0) handle[OWNER]?.failed(status);
}

/**
 * A connection on libuv's TCP handle straight from Node's binding, as `net.Socket` drives it but without
 * the socket, its two stream states, its event emitter and its ticks: measured on 20,000 loopback HTTP
 * exchanges (2026-12-01, AMD EPYC, 2 cores, Node 20), 12 against 30-35 µs of user CPU per connection, and
 * 60 against 100 MB peak RSS. What is read lands in the shared `READ_BUFFER`.
 */
class HandleConnection implements Connection {
  readonly #binding: TcpBinding;
  readonly #handle: TcpHandle;
  readonly #events: ConnectionEvents;
  #closed = false;
  #failed = false;

  constructor(binding: TcpBinding, host: string, port: number, events: ConnectionEvents) {
    this.#binding = binding;
    this.#events = events;
    const handle = new binding.TCP(binding.socketType);
    this.#handle = handle;
    handle[OWNER] = this;
    handle.onread = onHandleRead;
    handle.useUserBuffer(READ_BUFFER);
    const req = new binding.TCPConnectWrap();
    req.oncomplete = onHandleConnect;
    req.address = host;
    req.port = port;
    const err = host.includes(':') ? handle.connect6(req, host, port) : handle.connect(req, host, port);
    // A connect that fails at once (EADDRNOTAVAIL, EMFILE) is reported after the caller has the connection.
    if (err < 0) queueMicrotask(() => this.failed(err));
  }

  connected(status: number): void {
    if (this.#closed) return;
    if (status < 0) {
      this.failed(status);
      return;
    }
    const err = this.#handle.readStart();
    if (err < 0) {
      this.failed(err);
      return;
    }
    this.#events.handleConnect();
  }

  read(): void {
    if (this.#closed) return;
    const nread = this.#binding.streamBaseState[this.#binding.kReadBytesOrError]!;
    if (nread > 0) this.#events.handleData(READ_BUFFER, nread);
    else if (nread === UV_EOF) this.#events.handleEnd();
    else if (nread < 0) this.failed(nread);
  }

  failed(errno: number): void {
    if (this.#closed || this.#failed) return;
    this.#failed = true;
    this.#events.handleError(errnoName(errno));
  }

  write(text: string, encoding: 'latin1' | 'utf8'): void {
    if (this.#closed) return;
    const req = new this.#binding.WriteWrap();
    req.handle = this.#handle;
    req.oncomplete = onHandleWritten;
    req.async = false;
    const err =
      encoding === 'latin1'
        ? this.#handle.writeLatin1String(req, text)
        : this.#handle.writeUtf8String(req, text);
    if (err < 0) queueMicrotask(() => this.failed(err));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#handle.onread = noop;
    this.#handle.close();
  }
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return `errno ${errno}`;
  }
}

// --- On net.Socket (TLS, or no TCP binding) ---------------------------------------------------------------

const EVENTS = Symbol('fleetprobe.connection.events');
const ENDED = Symbol('fleetprobe.connection.ended');
type EventsSocket = net.Socket & { [EVENTS]: ConnectionEvents; [ENDED]?: boolean };

// Socket listeners shared by every connection (the emitter is `this`): no closures per check.
function onConnect(this: EventsSocket): void {
  this[EVENTS].handleConnect();
}
function onData(this: EventsSocket, chunk: Buffer): void {
  this[EVENTS].handleData(chunk, chunk.length);
}
function onRead(this: EventsSocket, nread: number): boolean {
  this[EVENTS].handleData(READ_BUFFER, nread);
  return true; // keep reading
}
function onEnd(this: EventsSocket): void {
  this[ENDED] = true;
  this[EVENTS].handleEnd();
}
function onError(this: EventsSocket, err: Error): void {
  const events = this[EVENTS];
  this[EVENTS] = CLOSED; // one error, and not the `close` that follows it
  events.handleError(socketErrorCode(err));
}
function onClose(this: EventsSocket): void {
  // After the end, the close is the socket's own; without an end or an error first, the peer went away.
  if (!this[ENDED]) this[EVENTS].handleError('connection closed');
}

/**
 * A connection on a `net.Socket` or `tls.TLSSocket`, which reads into `READ_BUFFER` (`net.connect`'s `onread`
 * given `onRead`: `reads` is `onread`) or with `data` events. Closing it detaches the events first: the
 * socket's own `close` is not reported.
 */
export class SocketConnection implements Connection {
  readonly socket: net.Socket;

  constructor(socket: net.Socket, events: ConnectionEvents, reads: 'onread' | 'data') {
    this.socket = socket;
    const s = socket as EventsSocket;
    s[EVENTS] = events;
    // `on`, not `once`: each fires at most once anyway, and `once` allocates a wrapper per listener.
    socket.on('connect', onConnect);
    if (reads === 'data') socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onError);
    socket.on('close', onClose);
  }

  write(text: string, encoding: 'latin1' | 'utf8'): void {
    this.socket.write(text, encoding);
  }

  close(): void {
    (this.socket as EventsSocket)[EVENTS] = CLOSED;
    this.socket.destroy();
  }
}

const CLOSED: ConnectionEvents = {
  handleConnect: noop,
  handleData: noop,
  handleEnd: noop,
  handleError: noop,
};
