import * as z from 'zod';
import { DNS_RECORD_TYPES } from '../../dns/codec.js';
import { DnsServerSpecError } from '../../dns/errors.js';
import { type DnsServer, parseDnsServer } from '../../dns/server-spec.js';
import { compilePattern, type Pattern } from '../pattern.js';

/** What `expect` means once parsed: an exact value, a regex, or the target's own address. */
export type DnsExpectation =
  | { kind: 'exact'; value: string }
  | { kind: 'pattern'; pattern: Pattern }
  | { kind: 'target-address' };

/** The placeholder `expect=<address>`: an answer must equal the target's own address. */
export const TARGET_ADDRESS_PLACEHOLDER = '<address>';

const expectArg = z.string().transform((text, ctx): DnsExpectation => {
  if (text === TARGET_ADDRESS_PLACEHOLDER) return { kind: 'target-address' };
  if (!/^\/.*\/[a-z]*$/s.test(text)) return { kind: 'exact', value: text };
  const pattern = compilePattern(text);
  if (typeof pattern === 'string') {
    ctx.addIssue({ code: 'custom', message: pattern });
    return z.NEVER;
  }
  return { kind: 'pattern', pattern };
});

const serverArg = z.string().transform((text, ctx): DnsServer => {
  try {
    return parseDnsServer(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: err instanceof DnsServerSpecError ? err.message : String(err) });
    return z.NEVER;
  }
});

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);

/** Arguments of the `dns` check. Strings from `--arg` are coerced. */
export const dnsArgs = z.object({
  /** Name to ask about. Default: the target's name; for PTR without a name, the target address's reverse name. */
  name: z.string().min(1).optional(),
  /** Record type (default A): A, AAAA, CNAME, MX, NS, TXT, SOA, PTR; case-insensitive. */
  type: z.preprocess(upper, z.enum(DNS_RECORD_TYPES)).default('A'),
  /**
   * The DNS server to ask: `IP`, `IP:PORT` or `[IPv6]:PORT` (port 53 by default). Default: the target
   * itself, at `port`. Required for targets given by name only (bulk resolution: one resolver, many names).
   */
  server: serverArg.optional(),
  /** Port of the target-as-server when `server` is unset and the target has no port (default 53). */
  port: z.coerce.number().int().min(1).max(65535).default(53),
  /**
   * An answer the reply must hold: an exact value (names compared case-insensitively, trailing dot
   * ignored), a `/pattern/flags` (RE2, linear time) matched against each answer, or `<address>` for the target's own address.
   */
  expect: expectArg.optional(),
  /** The rcode that counts as success (default NOERROR); e.g. `rcode=NXDOMAIN` checks a name is gone. */
  rcode: z.preprocess(upper, z.string().regex(/^[A-Z0-9_]+$/)).default('NOERROR'),
  /** Retries after an attempt gets no reply, each waiting twice as long, all within the deadline (default 2). */
  retries: z.coerce.number().int().min(0).max(10).default(2),
});
export type DnsArgs = z.output<typeof dnsArgs>;
