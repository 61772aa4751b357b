import { isFleetprobeError } from '../../core/errors.js';
import { DnsNoReplyError, DnsTcpError } from '../../dns/errors.js';
import { reverseName } from '../../dns/reverse.js';
import { type DnsServer, formatDnsServer } from '../../dns/server-spec.js';
import { getSharedDnsClient } from '../../dns/shared-client.js';
import type { DnsAnswer } from '../../dns/types.js';
import type { Target } from '../../targets/target.js';
import { abortHookOf, defineCheck, type Observation } from '../check.js';
import { type DnsArgs, type DnsExpectation, dnsArgs } from './dns-args.js';

/** Rcodes that mean "the name is not there" (the server did its job): `fail`. Others are `error`. */
const FAIL_RCODES = new Set(['NXDOMAIN']);
/** Answers shown in a result message. */
const MESSAGE_ANSWERS = 3;

/**
 * `dns`: asks one question and judges the reply. NOERROR with answers of the asked type (and, with
 * `expect`, one matching) -> pass; NXDOMAIN, NODATA (NOERROR without such answers) or an `expect`
 * mismatch -> fail; SERVFAIL, REFUSED and other rcodes -> error; no reply within the deadline -> timeout.
 * With `rcode=X`, a reply with rcode X passes and anything else is judged as above.
 *
 * The name asked is `name`, else the target's name, else (PTR) the target address's reverse name. The
 * server is `server`, else the target itself at its port or `port`. Targets need no address
 * (`needsAddress: false`): bulk resolution is `run dns -f names.txt --arg server=IP:PORT`.
 * Queries go through one process-wide DnsClient (`closeSharedDnsClient()` releases it at the end of a run).
 * Data: name, type, rcode, answers, authorityCount, server ("ip:port"), rttMs, attempts, tcp.
 */
export const dnsCheck = defineCheck({
  name: 'dns',
  description: 'DNS query (A, AAAA, CNAME, MX, NS, TXT, SOA, PTR): rcode, answers, expected value',
  args: dnsArgs,
  timeoutMs: 2000,
  needsAddress: false,
  argRoles: { server: 'address', expect: 'pattern' },
  releasesSignal: true,
  defaultPort: 53,
  // Not async: a promise chain of its own per query costs more than the one reaction here (per name, in bulk).
  run(target, args, ctx) {
    const { signal } = ctx;
    if (signal.aborted) return Promise.reject(signal.reason);
    const name = questionName(target, args);
    if (name === undefined) {
      return Promise.resolve<Observation>({
        status: 'error',
        message: `no name to ask ${args.type} for: give targets by name or set --arg name=...`,
        data: { type: args.type },
      });
    }
    const server = serverOf(target, args);
    if (server === undefined) {
      return Promise.resolve<Observation>({
        status: 'error',
        message: 'no DNS server: the target has no address, so --arg server=IP[:PORT] is required',
        data: { name, type: args.type },
      });
    }
    const type = args.type;
    const asked = serverText(server);
    // Spread the attempts over the deadline: first + retries, each twice as long as the one before.
    const remainingMs = Math.max(0, ctx.deadline - Date.now());
    // A shift, not `2 **`: V8 calls its C pow for every query (0.5% of a thread's samples in bulk).
    const timeoutMs = Math.max(50, Math.floor((remainingMs * 0.8) / ((2 << args.retries) - 1)));
    const failed = (err: unknown): Observation => {
      if (signal.aborted) throw signal.reason;
      if (err instanceof DnsNoReplyError) {
        return {
          status: 'timeout',
          message: `no reply after ${err.attempts} attempts`,
          data: { name, type, server: asked, attempts: err.attempts },
        };
      }
      if (err instanceof DnsTcpError)
        return { status: 'error', message: err.message, data: { name, type, server: asked, tcp: true } };
      if (isFleetprobeError(err))
        return { status: 'error', message: err.message, data: { name, type, server: asked } };
      throw err;
    };
    let asking: Promise<DnsReply>;
    try {
      asking = getSharedDnsClient().query({
        name,
        type,
        server,
        abortHook: abortHookOf(ctx),
        timeoutMs,
        retries: args.retries,
      });
    } catch (err) {
      return new Promise<Observation>((resolve) => resolve(failed(err)));
    }
    return asking.then((res) => {
      // A literal, never a spread followed by more keys: that leaves V8 a slow object that costs ~10 µs more
      // per result to build and to serialise (measured). The keys' order is the output's.
      const data = {
        name,
        type,
        server: asked,
        rcode: res.rcode,
        answers: res.answers,
        authorityCount: res.authorities.length,
        rttMs: Math.round(res.rttMs * 100) / 100,
        attempts: res.attempts,
        tcp: res.truncatedRetriedOverTcp,
      };
      return judge(target, args, res.rcode, res.answers, data);
    }, failed);
  },
});

type DnsReply = Awaited<ReturnType<ReturnType<typeof getSharedDnsClient>['query']>>;

/** The server formatted last: bulk resolution asks one server (one `args.server` object) for every target. */
const lastServer = { address: '', port: 0, text: '' };

function serverText(server: DnsServer): string {
  if (server.address !== lastServer.address || server.port !== lastServer.port) {
    lastServer.address = server.address;
    lastServer.port = server.port;
    lastServer.text = formatDnsServer(server);
  }
  return lastServer.text;
}

function questionName(target: Target, args: DnsArgs): string | undefined {
  if (args.name !== undefined) return args.name;
  if (target.name !== undefined) return target.name;
  if (args.type === 'PTR' && target.address !== undefined) return reverseName(target.address);
  return undefined;
}

function serverOf(target: Target, args: DnsArgs): DnsServer | undefined {
  if (args.server !== undefined) return args.server;
  if (target.address === undefined) return undefined;
  return { address: target.address, port: target.port ?? args.port };
}

function judge(
  target: Target,
  args: DnsArgs,
  rcode: string,
  answers: DnsAnswer[],
  data: Record<string, unknown>,
): Observation {
  if (rcode !== args.rcode) {
    if (args.rcode !== 'NOERROR')
      return {
        status: 'fail',
        message: `expected ${args.rcode}, got ${rcode}`,
        reason: `expected ${args.rcode}, got <rcode>`,
        data,
      };
    return { status: FAIL_RCODES.has(rcode) ? 'fail' : 'error', message: rcode, data };
  }
  if (rcode !== 'NOERROR') return { status: 'pass', message: rcode, data };
  // The answers of the asked type, the first MESSAGE_ANSWERS of them for the message: one pass, no arrays.
  let count = 0;
  let shown = '';
  for (let i = 0; i < answers.length; i++) {
    const a = answers[i]!;
    if (a.type !== args.type) continue;
    if (count < MESSAGE_ANSWERS) shown = count === 0 ? a.data : `${shown} ${a.data}`;
    count++;
  }
  if (count === 0) {
    return { status: 'fail', message: `NODATA: NOERROR without ${args.type} records`, data };
  }
  if (count > MESSAGE_ANSWERS) shown += ' ...';
  if (args.expect !== undefined) {
    const want = expectation(target, args.expect);
    if (want === undefined) {
      return { status: 'error', message: 'expect=<address> but the target has no address', data };
    }
    if (!answers.some((a) => a.type === args.type && want.test(a.data))) {
      // One reason whatever each target expected and got: the `expect=<address>` case folds into one group.
      return {
        status: 'fail',
        message: `expected ${want.label}, got ${shown}`,
        reason: 'expected <expected>, got <answers>',
        data: { ...data, expected: want.label },
      };
    }
  }
  return {
    status: 'pass',
    message: `${rcode} ${args.type} ${shown}`,
    reason: `${rcode} ${args.type} <answers>`,
    data,
  };
}

function expectation(
  target: Target,
  e: DnsExpectation,
): { test: (v: string) => boolean; label: string } | undefined {
  switch (e.kind) {
    case 'pattern':
      return { test: (v) => e.pattern.test(v), label: String(e.pattern) };
    case 'exact': {
      const want = normalise(e.value);
      return { test: (v) => normalise(v) === want, label: e.value };
    }
    case 'target-address': {
      const address = target.address;
      if (address === undefined) return undefined;
      return { test: (v) => v === address, label: address };
    }
    default:
      return e satisfies never;
  }
}

/** Names are case-insensitive and may carry a trailing dot. */
function normalise(value: string): string {
  const v = value.toLowerCase();
  return v.endsWith('.') && v.length > 1 ? v.slice(0, -1) : v;
}
