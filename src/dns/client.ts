import dgram from 'node:dgram';
import net from 'node:net';
import { type AbortHook, signalHook } from '../core/abort-hook.js';
import {
  type DnsRecordType,
  decodeReply,
  encodeQuery,
  isDnsRecordType,
  isTruncated,
  matchQuestion,
  QUESTION_EXACT,
  QUESTION_MISMATCH,
  questionLength,
  questionNameOf,
} from './codec.js';
import { DnsClientClosedError, DnsNoReplyError, DnsQueryError, DnsTcpError } from './errors.js';
import { IdTable } from './id-table.js';
import { canonicalAddress, type DnsServer, formatDnsServer } from './server-spec.js';
import { TimerWheel, type WheelEntry } from './timer-wheel.js';
import type { DnsAnswer } from './types.js';
import { AimdWindow } from './window.js';

export interface DnsClientOptions {
  /** UDP sockets per address family, queries spread round-robin (default 4). */
  socketsPerFamily?: number;
  /** Attempts after the first when an attempt gets no reply (default 2). */
  retries?: number;
  /** Default timeout of the first attempt in ms; each retry waits `backoff` times longer (default 1000). */
  timeoutMs?: number;
  /** Multiplier of the attempt timeout per retry (default 2). */
  backoff?: number;
  /**
   * Adaptive in-flight window, one per server (AIMD on timeouts): start (default 256), floor (16),
   * ceiling (4096). Queries beyond a server's window wait in that server's FIFO.
   */
  initialWindow?: number;
  minWindow?: number;
  maxWindow?: number;
  /** EDNS0 UDP payload size advertised (default 1232; 0 sends no OPT record). */
  udpPayloadSize?: number;
  /** Set RD in queries (default true: a recursive resolver resolves; an authoritative server ignores it). */
  recursionDesired?: boolean;
  /** SO_RCVBUF / SO_SNDBUF asked for each socket, in bytes (default 4 MiB; the kernel caps it at rmem_max). */
  recvBufferBytes?: number;
  sendBufferBytes?: number;
  /** Granularity of the timer wheel in ms (default 25): timeouts fire up to one tick late. */
  tickMs?: number;
  /**
   * Floor of the adaptive retransmission timeout in ms (default 200). Once a server has answered a few
   * queries, a first attempt to it waits `max(minRtoMs, srtt + 4 * rttvar)` (TCP's RTO), never more than
   * the query's `timeoutMs`: on loopback a lost datagram is retried after ~200 ms instead of a full second.
   */
  minRtoMs?: number;
}

export interface DnsQuery {
  name: string;
  type: DnsRecordType;
  server: DnsServer;
  /** Aborting rejects the query with `signal.reason` and frees its slot (and destroys a TCP fallback socket). */
  signal?: AbortSignal;
  /**
   * The same as `signal`, cheaper (no `abort` listener on the signal); when given, `signal` is ignored. A hook
   * holds one listener: one query in flight per hook.
   */
  abortHook?: AbortHook;
  /** Timeout of the first attempt in ms (default: the client's). */
  timeoutMs?: number;
  /** Override the client's `retries` for this query. */
  retries?: number;
}

export interface DnsResponse {
  /** `NOERROR`, `NXDOMAIN`, `SERVFAIL`, `REFUSED`, ... */
  rcode: string;
  answers: DnsAnswer[];
  authorities: DnsAnswer[];
  /** The authoritative-answer (AA) bit. */
  authoritative: boolean;
  /** The server that answered (the one asked: replies from anywhere else are ignored). */
  server: DnsServer;
  /** Round trip of the attempt that got the reply, in ms (includes the TCP connect on fallback). */
  rttMs: number;
  truncatedRetriedOverTcp: boolean;
  /** Attempts sent, UDP and TCP together. */
  attempts: number;
}

/** Counters since the client was created. `unmatched`: datagrams that matched no pending query (ignored). */
export interface DnsClientStats {
  sent: number;
  replies: number;
  unmatched: number;
  malformed: number;
  timeouts: number;
  retries: number;
  tcpFallbacks: number;
  socketErrors: number;
  inFlight: number;
  queued: number;
  /** Window of the server that answered last (in bulk resolution: the resolver's). */
  window: number;
}

const QUEUED = 0;
const UDP = 1;
const TCP = 2;
const DONE = 3;

/** What the client keeps per server: a smoothed round-trip estimate (RFC 6298, ms) and hot-server sockets. */
interface RttEstimate {
  srtt: number;
  rttvar: number;
  samples: number;
  /** Queries sent to this server so far. */
  queries: number;
  /** Sockets `connect()`ed to this server once it is hot (bulk resolution), else undefined. */
  connected: UdpSlot[] | undefined;
  /** Congestion control is per server, like TCP's per connection: one dead server must not stall others. */
  window: AimdWindow;
  inFlight: number;
  head: Pending | undefined;
  tail: Pending | undefined;
}

/**
 * A server asked this many queries gets its own connected UDP sockets: a connected socket's send skips
 * node's per-datagram address lookup and the kernel's route lookup (~30% cheaper per send, measured), and
 * the kernel drops datagrams from any other source before they reach us.
 */
const HOT_SERVER_QUERIES = 256;
/** Servers with connected sockets at most; the rest share the unconnected pool. */
const MAX_HOT_SERVERS = 4;

/** Servers with an RTT estimate kept at most; past it the table starts over (bulk runs ask one or a few). */
const MAX_RTT_SERVERS = 4096;
/** Samples before the estimate replaces the configured timeout. */
const RTT_MIN_SAMPLES = 16;

interface UdpSlot {
  socket: dgram.Socket;
  pending: IdTable<Pending>;
  nextId: number;
  /** Connected to one server: send without an address. */
  connected: boolean;
}

/**
 * Per-query state. A class (not closures) so a query costs one small object; it is its own wheel entry
 * and its own abort listener (`handleEvent`).
 */
class Pending implements WheelEntry {
  expiresTick = -1;
  wheelPrev: WheelEntry['wheelPrev'] = undefined;
  wheelNext: WheelEntry['wheelNext'] = undefined;
  state = QUEUED;
  id = 0;
  attempt = 0;
  sentAt = 0;
  tcp = false;
  tcpAttemptsLeft = 0;
  rtt: RttEstimate | undefined = undefined;
  slot: UdpSlot | undefined = undefined;
  tcpSocket: net.Socket | undefined = undefined;
  next: Pending | undefined = undefined;
  resolve!: (r: DnsResponse) => void;
  reject!: (err: unknown) => void;
  constructor(
    readonly core: ClientCore,
    readonly query: Buffer,
    readonly qLen: number,
    /** The question's name as the decoder prints it (`questionNameOf`). */
    readonly qName: string,
    readonly server: DnsServer,
    readonly maxAttempts: number,
    readonly timeoutMs: number,
    readonly abortHook: AbortHook | undefined,
  ) {}
  onTimer(): void {
    this.core.onTimer(this);
  }
  handleEvent(): void {
    this.core.onAbort(this);
  }
}

class ClientCore {
  readonly opts: Required<DnsClientOptions>;
  readonly wheel: TimerWheel;
  readonly stats = {
    sent: 0,
    replies: 0,
    unmatched: 0,
    malformed: 0,
    timeouts: 0,
    retries: 0,
    tcpFallbacks: 0,
    socketErrors: 0,
  };
  slots4: UdpSlot[] = [];
  slots6: UdpSlot[] = [];
  /** Connected sockets of hot servers. */
  hotSlots: UdpSlot[] = [];
  hotServers = 0;
  rr = 0;
  inFlight = 0;
  queued = 0;
  /** Servers with queries waiting for their window. */
  waiting = new Set<RttEstimate>();
  /** Window of the server that answered last (for stats). */
  lastWindow = 0;
  tcpOpen = new Set<Pending>();
  /** UDP attempts to send at the end of this loop turn (`flush`). */
  outbox: Pending[] = [];
  rtts = new Map<string, RttEstimate>();
  /**
   * The server asked last and its estimate: bulk callers pass one server object for every query, so its
   * identity (fields re-checked, the caller may change them) spares a key string and a map lookup.
   */
  lastServer: DnsServer | undefined = undefined;
  lastAddress = '';
  lastPort = 0;
  lastRtt: RttEstimate | undefined = undefined;
  closed = false;
  closing: Promise<void> = Promise.resolve();

  constructor(options: DnsClientOptions) {
    this.opts = {
      socketsPerFamily: options.socketsPerFamily ?? 4,
      retries: options.retries ?? 2,
      timeoutMs: options.timeoutMs ?? 1000,
      backoff: options.backoff ?? 2,
      initialWindow: options.initialWindow ?? 256,
      minWindow: options.minWindow ?? 16,
      // A socket can never hold more queries than it has ids: the window stays well below 65536.
      maxWindow: Math.min(options.maxWindow ?? 4096, 32768),
      udpPayloadSize: options.udpPayloadSize ?? 1232,
      recursionDesired: options.recursionDesired ?? true,
      recvBufferBytes: options.recvBufferBytes ?? 4 * 1024 * 1024,
      sendBufferBytes: options.sendBufferBytes ?? 1024 * 1024,
      tickMs: options.tickMs ?? 25,
      minRtoMs: options.minRtoMs ?? 200,
    };
    this.lastWindow = this.opts.initialWindow;
    this.wheel = new TimerWheel(this.opts.tickMs);
  }

  query(q: DnsQuery): Promise<DnsResponse> {
    if (this.closed) return Promise.reject(new DnsClientClosedError());
    const abortHook = q.abortHook ?? (q.signal === undefined ? undefined : signalHook(q.signal));
    if (abortHook?.aborted) return Promise.reject(abortHook.signal.reason);
    if (!isDnsRecordType(q.type))
      return Promise.reject(new DnsQueryError(`unsupported record type "${q.type}"`));
    let query: Buffer;
    try {
      query = encodeQuery(0, q.name, q.type, this.opts.recursionDesired, this.opts.udpPayloadSize);
    } catch (err) {
      return Promise.reject(err);
    }
    const server: DnsServer = q.server.address.includes(':')
      ? { address: canonicalAddress(q.server.address), port: q.server.port }
      : q.server;
    const entry = new Pending(
      this,
      query,
      questionLength(query),
      questionNameOf(q.name),
      server,
      1 + Math.max(0, q.retries ?? this.opts.retries),
      q.timeoutMs ?? this.opts.timeoutMs,
      abortHook,
    );
    const promise = new Promise<DnsResponse>((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    const srv = this.rttOf(server);
    entry.rtt = srv;
    // release() always removes the listener.
    abortHook?.listen(entry);
    if (srv.inFlight < srv.window.size) this.startUdp(entry);
    else this.enqueue(entry, srv);
    return promise;
  }

  rttOf(server: DnsServer): RttEstimate {
    if (server === this.lastServer && server.address === this.lastAddress && server.port === this.lastPort)
      return this.lastRtt!;
    const key = `${server.address}|${server.port}`;
    let rtt = this.rtts.get(key);
    if (rtt === undefined) {
      if (this.rtts.size >= MAX_RTT_SERVERS) this.rtts.clear();
      rtt = {
        srtt: 0,
        rttvar: 0,
        samples: 0,
        queries: 0,
        connected: undefined,
        window: new AimdWindow({
          initial: this.opts.initialWindow,
          min: this.opts.minWindow,
          max: this.opts.maxWindow,
        }),
        inFlight: 0,
        head: undefined,
        tail: undefined,
      };
      this.rtts.set(key, rtt);
    }
    this.lastServer = server;
    this.lastAddress = server.address;
    this.lastPort = server.port;
    this.lastRtt = rtt;
    return rtt;
  }

  enqueue(entry: Pending, srv: RttEstimate): void {
    if (srv.tail) srv.tail.next = entry;
    else srv.head = entry;
    srv.tail = entry;
    this.queued++;
    this.waiting.add(srv);
  }

  pump(srv: RttEstimate): void {
    while (srv.head && srv.inFlight < srv.window.size) {
      const entry = srv.head;
      srv.head = entry.next;
      if (!srv.head) srv.tail = undefined;
      entry.next = undefined;
      this.queued--;
      if (entry.state === QUEUED) this.startUdp(entry);
    }
    if (!srv.head) this.waiting.delete(srv);
  }

  slotFor(server: DnsServer, srv: RttEstimate | undefined): UdpSlot {
    if (srv !== undefined) {
      if (++srv.queries === HOT_SERVER_QUERIES && this.hotServers < MAX_HOT_SERVERS)
        this.connectHot(server, srv);
      if (srv.connected !== undefined) {
        this.rr = (this.rr + 1) % srv.connected.length;
        return srv.connected[this.rr]!;
      }
    }
    const v6 = server.address.includes(':');
    const slots = v6 ? this.slots6 : this.slots4;
    if (slots.length < this.opts.socketsPerFamily) {
      const slot = this.openSlot(v6);
      slots.push(slot);
      return slot;
    }
    this.rr = (this.rr + 1) % slots.length;
    return slots[this.rr]!;
  }

  /** Opens connected sockets for a hot server; it uses them once every one is connected. */
  connectHot(server: DnsServer, srv: RttEstimate): void {
    this.hotServers++;
    const slots: UdpSlot[] = [];
    let waiting = this.opts.socketsPerFamily;
    const onConnect = (err?: Error) => {
      if (err) this.stats.socketErrors++;
      else if (--waiting === 0 && !this.closed) srv.connected = slots;
    };
    for (let i = 0; i < this.opts.socketsPerFamily; i++) {
      const slot = this.openSlot(server.address.includes(':'));
      slot.connected = true;
      slot.socket.connect(server.port, server.address, onConnect);
      slots.push(slot);
    }
    this.hotSlots.push(...slots);
  }

  openSlot(v6: boolean): UdpSlot {
    const socket = dgram.createSocket({
      type: v6 ? 'udp6' : 'udp4',
      recvBufferSize: this.opts.recvBufferBytes,
      sendBufferSize: this.opts.sendBufferBytes,
    });
    const slot: UdpSlot = {
      socket,
      pending: new IdTable<Pending>(),
      nextId: (Math.random() * 0x10000) | 0,
      connected: false,
    };
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => this.onMessage(slot, msg, rinfo));
    socket.on('error', () => {
      // Send errors (EHOSTUNREACH...) surface here without saying which query: that query times out.
      this.stats.socketErrors++;
    });
    socket.bind({ port: 0, address: v6 ? '::' : '0.0.0.0', exclusive: true });
    if (this.inFlight === 0) socket.unref();
    return slot;
  }

  startUdp(entry: Pending): void {
    const slot = this.slotFor(entry.server, entry.rtt);
    let id = slot.nextId;
    // Random start, then linear probe: ids are unpredictable per socket and never collide.
    while (slot.pending.has(id)) id = (id + 1) & 0xffff;
    slot.nextId = (Math.random() * 0x10000) | 0;
    entry.id = id;
    entry.query.writeUInt16BE(id, 0);
    entry.slot = slot;
    entry.state = UDP;
    slot.pending.set(id, entry);
    entry.rtt!.inFlight++;
    if (this.inFlight++ === 0) this.refSockets(true);
    this.transmit(entry);
  }

  /**
   * Queues an attempt's datagram for `flush`, at the end of this loop turn: the queries a turn's replies
   * let start go out in one burst, so a server that reads in batches (recvmmsg) wakes once for many of them
   * instead of once per datagram (~30% less CPU per query against knotd on loopback, measured: the wake-ups
   * are a large share of a send's kernel time).
   */
  transmit(entry: Pending): void {
    entry.attempt++;
    this.stats.sent++;
    this.wheel.schedule(entry, this.attemptTimeout(entry));
    if (this.outbox.push(entry) === 1) setImmediate(flushOutbox, this);
  }

  /** Sends the queued datagrams of queries still waiting for their UDP reply. */
  flush(): void {
    const outbox = this.outbox;
    this.outbox = [];
    const now = performance.now();
    for (let i = 0; i < outbox.length; i++) {
      const entry = outbox[i]!;
      const slot = entry.slot;
      if (entry.state !== UDP || slot === undefined) continue;
      entry.sentAt = now;
      try {
        if (slot.connected) slot.socket.send(entry.query);
        else slot.socket.send(entry.query, entry.server.port, entry.server.address);
      } catch {
        // A send that throws (socket in a bad state) is a lost datagram: the timer retries it.
        this.stats.socketErrors++;
      }
    }
  }

  attemptTimeout(entry: Pending): number {
    let base = entry.timeoutMs;
    const rtt = entry.rtt;
    if (rtt !== undefined && rtt.samples >= RTT_MIN_SAMPLES && !entry.tcp) {
      base = Math.min(base, Math.max(this.opts.minRtoMs, rtt.srtt + 4 * rtt.rttvar));
    }
    return base * this.opts.backoff ** (entry.attempt - 1);
  }

  refSockets(ref: boolean): void {
    for (const slots of [this.slots4, this.slots6, this.hotSlots]) {
      for (const slot of slots) ref ? slot.socket.ref() : slot.socket.unref();
    }
  }

  onMessage(slot: UdpSlot, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (msg.length < 12) {
      this.stats.unmatched++;
      return;
    }
    const entry = slot.pending.get(msg.readUInt16BE(0));
    const match =
      entry === undefined || rinfo.port !== entry.server.port || rinfo.address !== entry.server.address
        ? QUESTION_MISMATCH
        : matchQuestion(msg, entry.query, entry.qLen);
    if (match === QUESTION_MISMATCH) {
      this.stats.unmatched++;
      return;
    }
    if (isTruncated(msg)) {
      this.startTcp(entry!);
      return;
    }
    this.complete(entry!, msg, match);
  }

  complete(entry: Pending, msg: Buffer, match: number): void {
    let decoded: ReturnType<typeof decodeReply>;
    try {
      decoded = decodeReply(msg, match === QUESTION_EXACT ? entry.qName : undefined);
    } catch {
      // Garbage that echoes our id and question: ignore it like a spoof; a real reply may still come.
      this.stats.malformed++;
      return;
    }
    const rttMs = performance.now() - entry.sentAt;
    // Karn: only a reply to a query sent once measures the round trip.
    if (entry.attempt === 1 && entry.rtt !== undefined) updateRtt(entry.rtt, rttMs);
    this.stats.replies++;
    entry.rtt!.window.onReply();
    this.lastWindow = entry.rtt!.window.size;
    this.release(entry);
    entry.resolve({
      rcode: decoded.rcode,
      answers: decoded.answers,
      authorities: decoded.authorities,
      authoritative: decoded.authoritative,
      server: entry.server,
      rttMs,
      truncatedRetriedOverTcp: entry.tcp,
      attempts: entry.attempt,
    });
  }

  /** Frees everything the query holds (id, timer, TCP socket, abort listener, window slot). */
  release(entry: Pending): void {
    const wasInFlight = entry.state === UDP || entry.state === TCP;
    if (entry.state === UDP) entry.slot!.pending.delete(entry.id);
    if (entry.tcpSocket) {
      entry.tcpSocket.destroy();
      entry.tcpSocket = undefined;
      this.tcpOpen.delete(entry);
    }
    entry.state = DONE;
    entry.slot = undefined;
    this.wheel.cancel(entry);
    entry.abortHook?.listen(undefined);
    if (wasInFlight) {
      if (--this.inFlight === 0) this.refSockets(false);
      const srv = entry.rtt!;
      srv.inFlight--;
      if (srv.head) this.pump(srv);
    }
  }

  onTimer(entry: Pending): void {
    if (entry.state !== UDP && entry.state !== TCP) return;
    this.stats.timeouts++;
    if (entry.state === UDP) {
      entry.rtt!.window.onLoss(entry.sentAt, performance.now());
      if (entry.attempt < entry.maxAttempts) {
        this.stats.retries++;
        this.transmit(entry);
        return;
      }
    } else if (entry.tcpAttemptsLeft > 0) {
      this.stats.retries++;
      this.tcpAttempt(entry);
      return;
    }
    const attempts = entry.attempt;
    this.release(entry);
    entry.reject(new DnsNoReplyError(formatDnsServer(entry.server), attempts));
  }

  onAbort(entry: Pending): void {
    if (entry.state === DONE) return;
    this.release(entry);
    entry.reject(entry.abortHook!.signal.reason);
  }

  startTcp(entry: Pending): void {
    this.stats.tcpFallbacks++;
    entry.slot!.pending.delete(entry.id);
    entry.slot = undefined;
    entry.state = TCP;
    entry.tcp = true;
    entry.tcpAttemptsLeft = Math.max(1, entry.maxAttempts - entry.attempt);
    this.tcpAttempt(entry);
  }

  tcpAttempt(entry: Pending): void {
    entry.tcpAttemptsLeft--;
    entry.attempt++;
    entry.sentAt = performance.now();
    entry.tcpSocket?.destroy();
    const server = entry.server;
    const socket = net.connect({ host: server.address, port: server.port });
    entry.tcpSocket = socket;
    this.tcpOpen.add(entry);
    this.wheel.schedule(entry, this.attemptTimeout(entry));
    const frame = Buffer.allocUnsafe(2 + entry.query.length);
    frame.writeUInt16BE(entry.query.length, 0);
    entry.query.copy(frame, 2);
    let received: Buffer = Buffer.alloc(0);
    const fail = (message: string, cause?: unknown) => {
      if (entry.tcpSocket !== socket) return;
      this.release(entry);
      entry.reject(new DnsTcpError(formatDnsServer(server), message, { cause }));
    };
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      if (entry.tcpSocket !== socket) return;
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      while (received.length >= 2) {
        const len = received.readUInt16BE(0);
        if (received.length < 2 + len) return;
        const msg = received.subarray(2, 2 + len);
        received = received.subarray(2 + len);
        const match =
          len >= 12 && msg.readUInt16BE(0) === entry.id
            ? matchQuestion(msg, entry.query, entry.qLen)
            : QUESTION_MISMATCH;
        if (match !== QUESTION_MISMATCH) {
          this.complete(entry, msg, match);
          if (entry.state === DONE) return;
        } else {
          this.stats.unmatched++;
        }
      }
    });
    socket.on('error', (err) => fail(err.message, err));
    socket.on('close', () => fail('connection closed before a reply'));
  }

  close(): Promise<void> {
    if (this.closed) return this.closing;
    this.closed = true;
    const err = new DnsClientClosedError();
    const victims: Pending[] = [];
    for (const slot of [...this.slots4, ...this.slots6, ...this.hotSlots])
      victims.push(...slot.pending.values());
    victims.push(...this.tcpOpen);
    for (const srv of this.waiting) {
      for (let e = srv.head; e; e = e.next) if (e.state === QUEUED) victims.push(e);
      srv.head = srv.tail = undefined;
    }
    this.waiting.clear();
    this.queued = 0;
    for (const entry of victims) {
      if (entry.state === DONE) continue;
      if (entry.state === QUEUED) entry.state = DONE;
      else this.release(entry);
      entry.abortHook?.listen(undefined);
      entry.reject(err);
    }
    this.wheel.clear();
    this.closing = Promise.all(
      [...this.slots4, ...this.slots6, ...this.hotSlots].map(
        (slot) => new Promise<void>((resolve) => slot.socket.close(resolve)),
      ),
    ).then(() => {});
    this.slots4 = [];
    this.slots6 = [];
    this.hotSlots = [];
    this.rtts.clear();
    this.lastServer = this.lastRtt = undefined;
    return this.closing;
  }
}

function flushOutbox(core: ClientCore): void {
  core.flush();
}

function updateRtt(rtt: RttEstimate, sample: number): void {
  if (rtt.samples++ === 0) {
    rtt.srtt = sample;
    rtt.rttvar = sample / 2;
  } else {
    rtt.rttvar += (Math.abs(rtt.srtt - sample) - rtt.rttvar) / 4;
    rtt.srtt += (sample - rtt.srtt) / 8;
  }
}

/**
 * A DNS stub client for many queries at once: a small pool of UDP sockets (per address family), thousands
 * of queries in flight, each matched by id AND question AND the server's address and port (anything else is
 * counted in `stats().unmatched` and ignored, never trusted). Per-attempt timeout with `retries` and
 * exponential backoff on a coarse timer wheel; a truncated (TC) reply is retried over TCP; EDNS0 with a
 * 1232-byte UDP payload. A per-server AIMD window adapts the number of queries in flight to each server
 * to its losses (a server's receive buffer overflows past a few hundred in flight on loopback); queries
 * beyond it wait in that server's FIFO, so the caller's own concurrency bounds memory, and a dead server
 * never slows the queries to the others. A server asked 256 times gets its own connected sockets.
 *
 * A query rejects with `DnsNoReplyError` (every attempt timed out), `DnsTcpError`, `DnsQueryError` (bad
 * name/type), `DnsClientClosedError`, or the signal's reason. A reply with any rcode resolves.
 * Idle sockets are `unref()`ed, so a client never keeps the process alive; `close()` still frees them.
 */
export class DnsClient {
  #core: ClientCore;

  constructor(options: DnsClientOptions = {}) {
    this.#core = new ClientCore(options);
  }

  query(q: DnsQuery): Promise<DnsResponse> {
    return this.#core.query(q);
  }

  stats(): DnsClientStats {
    const c = this.#core;
    return { ...c.stats, inFlight: c.inFlight, queued: c.queued, window: c.lastWindow };
  }

  /** Pending (sent, unanswered) UDP queries across sockets: 0 when idle. For tests and leak checks. */
  get pendingCount(): number {
    const c = this.#core;
    let n = c.tcpOpen.size;
    for (const slot of [...c.slots4, ...c.slots6, ...c.hotSlots]) n += slot.pending.size;
    return n;
  }

  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * Rejects every queued and in-flight query with `DnsClientClosedError` and closes all sockets (and TCP
   * fallbacks) at once. The promise resolves when the sockets are closed; it never rejects. Idempotent.
   */
  close(): Promise<void> {
    return this.#core.close();
  }
}
