import * as z from 'zod';
import { patternArg } from '../pattern.js';
import { parseExpectStatus, type StatusMatcher } from './expect-status.js';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;
/** `;` separates headers in the string form only when a `Name:` follows, so `Cookie: a=1; b=2` survives. */
const HEADER_SPLIT = /;\s*(?=[!#$%&'*+.^_`|~0-9A-Za-z-]+\s*:)/;

/** Parses `Name: value` entries of the string form of `headers`. */
function headersFromString(text: string): Array<[string, string]> | string {
  const out: Array<[string, string]> = [];
  for (const entry of text.split(/\r?\n|\r/).flatMap((line) => line.split(HEADER_SPLIT))) {
    if (entry.trim() === '') continue;
    const colon = entry.indexOf(':');
    if (colon <= 0) return `header ${JSON.stringify(entry)} is not "Name: value"`;
    out.push([entry.slice(0, colon).trim(), entry.slice(colon + 1).trim()]);
  }
  return out;
}

/**
 * `headers`: a JSON object `{"Name": "value"}`, an array of `"Name: value"` strings, or one string of
 * `Name: value` entries separated by newlines or by `;` before the next `Name:` (`--arg 'headers=X-A: 1; X-B: 2'`).
 * Names must be HTTP tokens; values must not contain CR, LF or NUL (no header injection).
 */
const headersArg = z
  .union([
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
    z.array(z.string()),
    z.string(),
  ])
  .transform((input, ctx): ReadonlyArray<readonly [string, string]> => {
    let pairs: Array<[string, string]>;
    if (typeof input === 'string' || Array.isArray(input)) {
      const parsed = headersFromString(Array.isArray(input) ? input.join('\n') : input);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return z.NEVER;
      }
      pairs = parsed;
    } else {
      pairs = Object.entries(input).map(([k, v]) => [k, String(v)]);
    }
    for (const [name, value] of pairs) {
      if (!TOKEN.test(name)) {
        ctx.addIssue({ code: 'custom', message: `bad header name ${JSON.stringify(name)}` });
        return z.NEVER;
      }
      if (BAD_VALUE.test(value)) {
        ctx.addIssue({ code: 'custom', message: `header ${name}: value must not contain CR, LF or NUL` });
        return z.NEVER;
      }
      if (/^(host|connection|content-length|transfer-encoding)$/i.test(name)) {
        ctx.addIssue({
          code: 'custom',
          message: `header ${name} is set by the check (use the host argument for Host)`,
        });
        return z.NEVER;
      }
    }
    return pairs;
  });

const expectStatusArg = z
  .union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])
  .transform((spec, ctx) => {
    const m = parseExpectStatus(spec);
    if (typeof m === 'string') {
      ctx.addIssue({ code: 'custom', message: m });
      return z.NEVER;
    }
    return m;
  });

const DEFAULT_EXPECT_STATUS = parseExpectStatus('2xx,3xx') as StatusMatcher;

/** Booleans from the CLI arrive as strings: `insecure=true`, `stream=1`, `stream=false`. */
const boolArg = z.union([
  z.boolean(),
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
    .transform((s) => s === 'true' || s === '1' || s === 'yes' || s === ''),
]);

/**
 * Arguments of the `http` check. Every field has a default except `host`, `expectBody`, `ca`, `certMinDays`.
 * Port precedence: the target's port, else `port`, else 80 (http) / 443 (https).
 */
export const httpArgs = z.object({
  port: z.coerce.number().int().min(1).max(65535).optional(),
  scheme: z.enum(['http', 'https']).default('http'),
  /** Request target; must start with `/` (or be `*`), no spaces or control characters. Default `/`. */
  path: z
    .string()
    .regex(/^(\/[^\s\0-\x1f\x7f]*|\*)$/, 'path must start with / and contain no spaces or control characters')
    .default('/'),
  method: z.string().regex(TOKEN, 'method must be an HTTP token').default('GET'),
  headers: headersArg.default([]),
  /** Host header and TLS server name (SNI); default: the target's name, else its address (no SNI for an IP). */
  host: z
    .string()
    .regex(/^[^\s\0-\x1f\x7f/]+$/, 'host must not contain spaces, slashes or control characters')
    .optional(),
  /** Accepted statuses: `200`, `2xx`, `200-299`, `200,301` or a list. Default `2xx,3xx` (redirects are not followed). */
  expectStatus: expectStatusArg.default(DEFAULT_EXPECT_STATUS),
  /** Pattern (RE2, linear time) the body (first `maxBytes`, decoded as UTF-8) must match. */
  expectBody: patternArg().optional(),
  /** Most body bytes read (default 64 KiB); reading stops there and the connection is closed. */
  maxBytes: z.coerce
    .number()
    .int()
    .min(0)
    .max(64 * 1024 * 1024)
    .default(64 * 1024),
  /** Skip certificate verification (the cert is still reported). */
  insecure: boolArg.default(false),
  /**
   * PEM file of CA certificate(s) to trust instead of the system store; read once per process per path.
   * Through the API: the name of a CA bundle configured on the server (`--ca name=path`).
   */
  ca: z.string().min(1).optional(),
  /** Fail when the leaf certificate expires in fewer than this many days. */
  certMinDays: z.coerce.number().min(0).optional(),
  /**
   * Streaming body: read it until `maxBytes`, its end or the deadline, and fail when no byte arrives for
   * `idleTimeout` ms. Reaching the deadline while the stream still flows is a pass (the stream is alive).
   */
  stream: boolArg.default(false),
  /** Body idle timeout in milliseconds for `stream` (default 5000). */
  idleTimeout: z.coerce.number().int().min(1).default(5000),
});
export type HttpArgs = z.output<typeof httpArgs>;
