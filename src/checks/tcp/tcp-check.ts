import * as z from 'zod';
import type { AbortHook } from '../../core/abort-hook.js';
import { abortHookOf, defineCheck, type Observation } from '../check.js';
import { patternArg } from '../pattern.js';
import { type Connection, type ConnectionEvents, connectTcp } from './connection.js';
import { elapsedMs } from './socket-errors.js';

/** Arguments of the `tcp` check. Numbers may arrive as strings (`--arg port=22`). */
export const tcpArgs = z.object({
  /** Port to connect to when the target has none (`host:22` wins). Default 80. */
  port: z.coerce.number().int().min(1).max(65535).default(80),
  /** Text to write once connected (before reading any banner). */
  send: z.string().optional(),
  /** Pattern (RE2) the first bytes the server sends must match; read until match, close, cap or deadline. */
  expectBanner: patternArg().optional(),
  /** Most banner bytes read while waiting for `expectBanner` to match (default 4096). */
  maxBannerBytes: z.coerce.number().int().min(1).max(1_048_576).default(4096),
});
export type TcpArgs = z.output<typeof tcpArgs>;

/**
 * `tcp`: passes when a TCP connection to the target opens (and, with `expectBanner`, the server's first
 * bytes match). `connect ECONNREFUSED` and friends are `error`; a banner that does not match is `fail`.
 * On abort (deadline or cancel) the socket is destroyed and `run` rejects with `ctx.signal.reason`.
 * Data: `port`, `connectMs`, and `banner` (first 200 characters) when one was read.
 */
export const tcpCheck = defineCheck({
  name: 'tcp',
  description: 'TCP connect (optionally send a line and match the banner)',
  args: tcpArgs,
  timeoutMs: 5000,
  argRoles: { expectBanner: 'pattern' },
  releasesSignal: true,
  run(target, args, ctx) {
    const { signal } = ctx;
    if (signal.aborted) return Promise.reject(signal.reason);
    const port = target.port ?? args.port;
    return new Promise<Observation>((resolve, reject) => {
      new Probe(target.address!, port, args, abortHookOf(ctx), resolve, reject);
    });
  },
});

/** One `tcp` check's connection: it hears its events and the abort itself (no closures per check). */
class Probe implements ConnectionEvents {
  readonly #started = performance.now();
  readonly #conn: Connection;
  #connectMs = -1;
  #banner = '';
  #settled = false;

  constructor(
    address: string,
    readonly port: number,
    readonly args: TcpArgs,
    readonly abortHook: AbortHook,
    readonly resolve: (obs: Observation) => void,
    readonly reject: (err: unknown) => void,
  ) {
    this.#conn = connectTcp(address, port, this);
    abortHook.listen(this);
  }

  handleConnect(): void {
    this.#connectMs = elapsedMs(this.#started);
    if (this.args.send !== undefined) this.#conn.write(this.args.send, 'utf8');
    if (!this.args.expectBanner) this.#settle({ status: 'pass', message: 'connected', data: this.#data() });
  }

  handleData(buf: Buffer, len: number): void {
    const re = this.args.expectBanner;
    if (!re) return;
    this.#banner += buf.toString('latin1', 0, len);
    if (re.test(this.#banner))
      this.#settle({ status: 'pass', message: 'connected, banner matches', data: this.#data() });
    else if (this.#banner.length >= this.args.maxBannerBytes)
      this.#bannerFail(`${this.args.maxBannerBytes} bytes read`);
  }

  handleEnd(): void {
    if (this.args.expectBanner) this.#bannerFail('connection closed');
  }

  handleError(code: string): void {
    const phase = this.#connectMs < 0 ? 'connect' : 'read';
    this.#settle({ status: 'error', message: `${phase} ${code}`, data: { port: this.port } });
  }

  /** The signal aborted (deadline or cancel). */
  handleEvent(): void {
    this.#settle(undefined, this.abortHook.signal.reason);
  }

  #bannerFail(why: string): void {
    this.#settle({
      status: 'fail',
      message: `banner does not match ${this.args.expectBanner} (${why})`,
      data: this.#data(),
    });
  }

  #data(): Record<string, unknown> {
    const port = this.port;
    const connectMs = this.#connectMs;
    return this.#banner === ''
      ? { port, connectMs }
      : { port, connectMs, banner: this.#banner.slice(0, 200) };
  }

  #settle(obs: Observation | undefined, err?: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.abortHook.listen(undefined);
    this.#conn.close();
    if (obs) this.resolve(obs);
    else this.reject(err);
  }
}
