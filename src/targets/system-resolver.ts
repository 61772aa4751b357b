import { Resolver } from 'node:dns/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { throwIfAborted } from '../core/deadline.js';
import { UsageError } from '../core/errors.js';

/**
 * Resolves a name to its addresses (A records first, then AAAA). Rejects with `signal.reason` when the
 * signal aborts. An injectable port: the engine and `openTargets` take any function of this shape.
 */
export type ResolveFn = (name: string, signal: AbortSignal) => Promise<string[]>;

/** Options of the system resolver. Defaults are node's (c-ares): about 5 s per try, 4 tries. */
export interface HostnameResolverOptions {
  /** Milliseconds per query try. */
  readonly timeoutMs?: number;
  /** Tries per query before giving up. */
  readonly tries?: number;
}

/** DNS error codes that mean "no such record", not "the lookup failed". */
const NO_DATA = new Set(['ENODATA', 'ENOTFOUND', 'NOTFOUND']);

/**
 * Validates `--resolver <ip[:port]>` (`192.0.2.53`, `192.0.2.53:5353`, `2001:db8::53`, `[2001:db8::53]:5353`)
 * and returns it in the form `Resolver.setServers` takes. Throws `UsageError` for anything else.
 */
export function parseResolverAddress(text: string): string {
  const bad = (why: string) => new UsageError(`--resolver: "${text}" ${why}`);
  let host = text;
  let port: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) throw bad('has no closing "]"');
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) throw bad('is not ip[:port]');
      port = rest.slice(1);
    }
    if (!isIPv6(host)) throw bad('is not an IPv6 address');
  } else if (!isIPv6(text)) {
    const colon = text.lastIndexOf(':');
    if (colon !== -1) {
      host = text.slice(0, colon);
      port = text.slice(colon + 1);
    }
    if (!isIPv4(host)) throw bad('is not an IP address (ip[:port])');
  }
  if (port !== undefined) {
    const n = /^\d{1,5}$/.test(port) ? Number(port) : 0;
    if (n < 1 || n > 65535) throw bad(`has a bad port "${port}" (1-65535)`);
    return isIPv6(host) ? `[${host}]:${n}` : `${host}:${n}`;
  }
  return host;
}

/**
 * The system resolver (node:dns/promises `Resolver`, c-ares: it does not block libuv's thread pool).
 * `resolverAddr` (`--resolver`) selects the DNS server; default: the system's servers (/etc/resolv.conf).
 * Each call asks A and AAAA in parallel on its own `Resolver`, so aborting one call (`resolver.cancel()`)
 * never cancels another's queries. Returns A addresses then AAAA addresses; `[]` when the name exists
 * without such records; rejects with node's DNS error (code `ENOTFOUND` for a name that does not exist,
 * `ETIMEOUT`, `ESERVFAIL`, `ECONNREFUSED`...) when neither family answered with records, and when one
 * family failed for a reason other than "no data" (a half answer would silently drop targets).
 * Throws `UsageError` at once for a bad `resolverAddr`.
 */
export function hostnameResolver(resolverAddr?: string, options: HostnameResolverOptions = {}): ResolveFn {
  const server = resolverAddr === undefined ? undefined : parseResolverAddress(resolverAddr);
  return async (name, signal) => {
    throwIfAborted(signal);
    const resolver = new Resolver({ timeout: options.timeoutMs ?? -1, tries: options.tries ?? 4 });
    if (server !== undefined) resolver.setServers([server]);
    const onAbort = () => resolver.cancel();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      const [a, aaaa] = await Promise.allSettled([resolver.resolve4(name), resolver.resolve6(name)]);
      throwIfAborted(signal);
      const addresses: string[] = [];
      let notFound: unknown;
      for (const outcome of [a, aaaa]) {
        if (outcome.status === 'fulfilled') {
          addresses.push(...outcome.value);
          continue;
        }
        const code = (outcome.reason as { code?: unknown }).code;
        if (typeof code === 'string' && NO_DATA.has(code)) {
          if (code !== 'ENODATA') notFound ??= outcome.reason;
          continue;
        }
        throw outcome.reason;
      }
      if (addresses.length === 0 && notFound !== undefined) throw notFound;
      return addresses;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  };
}
