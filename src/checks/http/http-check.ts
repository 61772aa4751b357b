import type { TLSSocket } from 'node:tls';
import type { AbortHook } from '../../core/abort-hook.js';
import { DeadlineError } from '../../core/errors.js';
import type { Target } from '../../targets/target.js';
import { abortHookOf, type CheckContext, defineCheck, type Observation } from '../check.js';
import type { Pattern } from '../pattern.js';
import { type Connection, type ConnectionEvents, connectTcp, SocketConnection } from '../tcp/connection.js';
import { elapsedMs, socketErrorCode } from '../tcp/socket-errors.js';
import { type HttpArgs, httpArgs } from './http-args.js';
import { buildRequest, hostHeaderFor, serverNameFor } from './request-writer.js';
import { BadResponseError, ResponseParser } from './response-parser.js';
import { type TlsClient, tlsClientFor } from './tls-context.js';

const DAY_MS = 86_400_000;

/** What the `https` check saw of the server's leaf certificate. */
export interface CertInfo {
  subject: string;
  issuer: string;
  /** ISO-8601. */
  validTo: string;
  /** Whole days until `validTo` (negative once expired). */
  daysLeft: number;
  /**
   * ISO-8601: the earliest `validTo` of the chain (the leaf and the issuers the server sent or the trust
   * store completed it with), as blackbox_exporter's `probe_ssl_earliest_cert_expiry`.
   */
  earliestValidTo: string;
}

function nameOf(dn: Record<string, unknown> | undefined): string {
  if (!dn) return '';
  const cn = dn.CN ?? dn.O;
  return Array.isArray(cn) ? String(cn[0]) : String(cn ?? '');
}

function certInfo(socket: TLSSocket): CertInfo | undefined {
  const peer = socket.getPeerCertificate(true);
  if (!peer?.valid_to) return undefined;
  const validTo = Date.parse(peer.valid_to);
  let earliest = validTo;
  // A self-signed root is its own issuer: stop there (and after a bounded number of links).
  for (let c = peer.issuerCertificate, n = 0; c?.valid_to && n < 16; n++) {
    earliest = Math.min(earliest, Date.parse(c.valid_to));
    if (c.issuerCertificate === c || c.fingerprint256 === c.issuerCertificate?.fingerprint256) break;
    c = c.issuerCertificate;
  }
  return {
    earliestValidTo: new Date(earliest).toISOString(),
    subject: nameOf(peer.subject as unknown as Record<string, unknown>),
    issuer: nameOf(peer.issuer as unknown as Record<string, unknown>),
    validTo: new Date(validTo).toISOString(),
    daysLeft: Math.floor((validTo - Date.now()) / DAY_MS),
  };
}

function onIdle(exchange: Exchange): void {
  exchange.handleIdle();
}

/**
 * One HTTP/1.1 exchange on a fresh connection (`Connection: close`), on a hand-written client over a plain
 * `Connection` or `tls` (bench/http-layer.ts: it sweeps distinct hosts faster than node:http or undici). The
 * state lives in this object, which hears its connection's events itself, so a check costs this object, its
 * parser, a small closure (the body sink, when a body is kept) and the connection.
 */
class Exchange implements ConnectionEvents {
  readonly #started = performance.now();
  readonly #conn: Connection;
  /** The TLS socket under `#conn`, for https. */
  readonly #tls: TLSSocket | undefined;
  /** The body idle timer of a `stream` read, once the headers are in. */
  #idle: NodeJS.Timeout | undefined;
  readonly #parser: ResponseParser;
  /** The body kept for `expectBody` (created then only). */
  #body: Buffer[] | undefined;
  #kept = 0;
  #capped = false;
  #phase: 'connect' | 'tls' | 'read' = 'connect';
  #connectMs = -1;
  #tlsMs = -1;
  #ttfbMs = -1;
  #writtenAt = 0;
  #cert: CertInfo | undefined;
  #stalled = false;
  #settled = false;
  readonly #abortHook: AbortHook;
  /** Chunks read so far: an idle timeout checks that none arrived in the poll phase after it. */
  #reads = 0;

  constructor(
    readonly target: Target,
    readonly args: HttpArgs,
    readonly port: number,
    readonly ctx: CheckContext,
    readonly request: string,
    readonly resolve: (obs: Observation) => void,
    readonly reject: (err: unknown) => void,
    tlsClient: TlsClient | undefined,
  ) {
    this.#parser = new ResponseParser({
      head: args.method === 'HEAD',
      onBody: args.expectBody || args.maxBytes > 0 ? this.#onBody : undefined,
      keepHeaders: false, // nothing here reads them
    });
    const host = target.address!;
    if (tlsClient) {
      const servername = serverNameFor(target, args);
      const socket = tlsClient.tls.connect({
        host,
        port,
        secureContext: tlsClient.context,
        rejectUnauthorized: !args.insecure,
        ...(servername === undefined ? {} : { servername }),
      });
      socket.once('secureConnect', () => this.handleSecureConnect());
      this.#tls = socket;
      this.#conn = new SocketConnection(socket, this, 'data');
    } else {
      this.#tls = undefined;
      this.#conn = connectTcp(host, port, this);
    }
    this.#abortHook = abortHookOf(ctx);
    this.#abortHook.listen(this);
  }

  handleConnect(): void {
    this.#connectMs = elapsedMs(this.#started);
    if (this.#tls) {
      this.#phase = 'tls';
      return;
    }
    this.#send();
  }

  handleSecureConnect(): void {
    this.#tlsMs = Math.round((elapsedMs(this.#started) - this.#connectMs) * 100) / 100;
    this.#cert = certInfo(this.#tls!);
    this.#send();
  }

  #send(): void {
    this.#phase = 'read';
    this.#writtenAt = performance.now();
    this.#conn.write(this.request, 'latin1');
  }

  #onBody = (buf: Buffer, start: number, end: number): void => {
    const room = this.args.maxBytes - this.#kept;
    const take = Math.min(end - start, room);
    if (take > 0) {
      // A copy: `buf` may be the shared read buffer.
      if (this.args.expectBody) {
        this.#body ??= [];
        this.#body.push(Buffer.from(buf.subarray(start, start + take)));
      }
      this.#kept += take;
    }
    if (this.#kept >= this.args.maxBytes) this.#capped = true;
  };

  /** Bytes `0..len` of `chunk` were read. */
  handleData(chunk: Buffer, len: number): void {
    this.#reads++;
    this.#idle?.refresh();
    if (this.#ttfbMs < 0) this.#ttfbMs = elapsedMs(this.#writtenAt);
    const parser = this.#parser;
    const hadHeaders = parser.headersComplete;
    let done: boolean;
    try {
      done = parser.execute(chunk, len);
    } catch (err) {
      this.#badResponse(err);
      return;
    }
    if (done || (parser.headersComplete && this.args.maxBytes === 0)) {
      this.#finish();
    } else if (this.#capped) {
      this.#finish();
    } else if (!hadHeaders && parser.headersComplete && this.args.stream) {
      // Re-armed by every read (`handleData`), not made anew.
      this.#idle = setTimeout(onIdle, this.args.idleTimeout, this);
    }
  }

  handleIdle(): void {
    // Timers run before the poll phase: after the loop was blocked, body data may be waiting unread. Decide
    // in the check phase, once the poll phase has read what is there.
    const reads = this.#reads;
    setImmediate(() => {
      if (this.#settled || this.#reads !== reads) return;
      this.#stalled = true;
      this.#finish();
    });
  }

  handleEnd(): void {
    try {
      this.#parser.finish();
    } catch (err) {
      this.#badResponse(err);
      return;
    }
    this.#finish();
  }

  handleError(code: string): void {
    this.#settle({ status: 'error', message: `${this.#phase} ${code}`, data: this.#data() });
  }

  /** `ctx.signal` aborted (the exchange is its own abort listener). */
  handleEvent(): void {
    const reason = this.ctx.signal.reason;
    // A stream that still flows at the deadline is alive: the deadline is how a stream read ends.
    if (this.args.stream && this.#parser.headersComplete && reason instanceof DeadlineError) {
      this.#finish();
      return;
    }
    // The server answered but the body did not end in time: a timeout that keeps what was seen (the status).
    if (this.#parser.headersComplete && reason instanceof DeadlineError) {
      this.#settle({
        status: 'timeout',
        message: `timeout after ${reason.timeoutMs} ms (reading the body)`,
        data: this.#data(),
      });
      return;
    }
    this.#settle(undefined, reason);
  }

  #badResponse(err: unknown): void {
    const message = err instanceof BadResponseError ? err.message : socketErrorCode(err);
    this.#settle({ status: 'error', message: `bad response: ${message}`, data: this.#data() });
  }

  /** The response is decided: evaluate the expectations on what was read. */
  #finish(): void {
    const p = this.#parser;
    const args = this.args;
    const data = this.#data();
    const code = p.statusCode;
    let obs: Observation;
    if (!args.expectStatus.matches(code)) {
      obs = {
        status: 'fail',
        message: `expected ${args.expectStatus.text}, got ${code}`,
        // The status code stays in the reason: a small closed set, and 502 vs 503 is the split worth seeing.
        reason: `expected ${args.expectStatus.text}, got ${code}`,
        data,
      };
    } else if (this.#stalled) {
      obs = { status: 'fail', message: `body stalled for ${args.idleTimeout} ms`, data };
    } else if (args.expectBody && !this.#bodyMatches(args.expectBody)) {
      obs = { status: 'fail', message: `body does not match ${args.expectBody}`, data };
    } else if (args.certMinDays !== undefined && this.#cert && this.#cert.daysLeft < args.certMinDays) {
      obs = {
        status: 'fail',
        message: `cert expires in ${this.#cert.daysLeft} days < ${args.certMinDays}`,
        reason: `cert expires in <days> days < ${args.certMinDays}`,
        data,
      };
    } else {
      obs = {
        status: 'pass',
        message: p.reason ? `${code} ${p.reason}` : String(code),
        reason: String(code), // the reason phrase is free text
        data,
      };
    }
    this.#settle(obs);
  }

  #bodyMatches(pattern: Pattern): boolean {
    const body = this.#body ?? [];
    const text = (body.length === 1 ? body[0]! : Buffer.concat(body)).toString('utf8');
    return pattern.test(text);
  }

  #data(): Record<string, unknown> {
    const p = this.#parser;
    const data: Record<string, unknown> = {
      port: this.port,
      dnsMs: 0,
      connectMs: this.#connectMs,
      ttfbMs: this.#ttfbMs,
      totalMs: elapsedMs(this.#started),
    };
    if (this.#tlsMs >= 0) data.tlsMs = this.#tlsMs;
    if (p.headersComplete) {
      data.status = p.statusCode;
      data.bytes = this.#kept;
      if (p.contentLength >= 0) data.contentLength = p.contentLength;
      if (this.#capped && !p.complete) data.truncated = true;
    }
    if (this.#cert) data.cert = this.#cert;
    return data;
  }

  #settle(obs: Observation | undefined, err?: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#abortHook.listen(undefined);
    if (this.#idle) clearTimeout(this.#idle);
    this.#conn.close();
    if (obs) this.resolve(obs);
    else this.reject(err);
  }
}

/**
 * `http`: one HTTP/1.1 request (`Connection: close`) to the target; see `httpArgs` for the arguments.
 * - `error`: refused, reset, TLS failure (`tls CERT_HAS_EXPIRED`), garbage (`bad response: not HTTP`).
 * - `fail`: answered, but the status, body, certificate lifetime or stream liveness is not as expected.
 * - On abort (deadline/cancel) the socket is destroyed and `run` rejects with `ctx.signal.reason`, except
 *   that with `stream` a body still flowing at the deadline ends the read and is evaluated, and that a
 *   deadline reached while reading the body is a `timeout` observation carrying the data (status) seen.
 * The body is read up to `maxBytes`; then the connection is destroyed (an endless body is never read on).
 * Data: port, dnsMs (0: targets arrive resolved), connectMs, tlsMs, ttfbMs, totalMs, status, bytes,
 * contentLength (the declared Content-Length, when there is one), truncated, cert {subject, issuer, validTo, daysLeft, earliestValidTo}.
 */
export const httpCheck = defineCheck({
  name: 'http',
  description: 'HTTP/HTTPS request: status, body regex, certificate lifetime, streaming liveness',
  args: httpArgs,
  timeoutMs: 10_000,
  argRoles: { expectBody: 'pattern', ca: 'caBundle' },
  releasesSignal: true,
  run(target, args, ctx) {
    if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason);
    // Plain http needs no await before connecting: no async wrapper promise and its extra ticks per target.
    if (args.scheme !== 'https') return exchange(target, args, ctx, undefined);
    return tlsClientFor(args.ca, ctx.signal).then((tlsClient) => {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      return exchange(target, args, ctx, tlsClient);
    });
  },
});

function exchange(
  target: Target,
  args: HttpArgs,
  ctx: CheckContext,
  tlsClient: TlsClient | undefined,
): Promise<Observation> {
  return new Promise<Observation>((resolve, reject) => {
    const port = target.port ?? args.port ?? (args.scheme === 'https' ? 443 : 80);
    const request = buildRequest(args, hostHeaderFor(target, args, port));
    new Exchange(target, args, port, ctx, request, resolve, reject, tlsClient);
  });
}
