import net from 'node:net';
import * as z from 'zod';
import { abortHookOf, defineCheck, type Observation } from '../check.js';
import { patternArg } from '../pattern.js';
import { elapsedMs, socketErrorCode } from './socket-errors.js';

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
      const started = performance.now();
      let connectMs = -1;
      let banner = '';
      let settled = false;
      const socket = net.connect({ host: target.address!, port });
      const abortHook = abortHookOf(ctx);
      const settle = (obs: Observation | undefined, err?: unknown) => {
        if (settled) return;
        settled = true;
        abortHook.listen(undefined);
        socket.destroy();
        if (obs) resolve(obs);
        else reject(err);
      };
      const data = () =>
        banner === '' ? { port, connectMs } : { port, connectMs, banner: banner.slice(0, 200) };
      const bannerFail = (why: string) =>
        settle({
          status: 'fail',
          message: `banner does not match ${args.expectBanner} (${why})`,
          data: data(),
        });
      abortHook.listen({ handleEvent: () => settle(undefined, signal.reason) });
      socket.once('connect', () => {
        connectMs = elapsedMs(started);
        if (args.send !== undefined) socket.write(args.send);
        if (!args.expectBanner) settle({ status: 'pass', message: 'connected', data: data() });
      });
      socket.on('error', (err) => {
        const phase = connectMs < 0 ? 'connect' : 'read';
        settle({ status: 'error', message: `${phase} ${socketErrorCode(err)}`, data: { port } });
      });
      if (args.expectBanner) {
        const re = args.expectBanner;
        socket.setEncoding('latin1');
        socket.on('data', (chunk: string) => {
          banner += chunk;
          if (re.test(banner)) settle({ status: 'pass', message: 'connected, banner matches', data: data() });
          else if (banner.length >= args.maxBannerBytes) bannerFail(`${args.maxBannerBytes} bytes read`);
        });
        socket.once('end', () => bannerFail('connection closed'));
      }
    });
  },
});
