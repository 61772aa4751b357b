import * as z from 'zod';
import { STATUSES } from '../engine/result.js';
import { DIFF_KINDS, RUN_STATES } from '../store/store.js';
import { ApiError } from './errors.js';

/**
 * A target in a request: a spec string, or an object whose name and labels survive into the results and
 * the monitor's target states. Fields are checked further by `parseTargetInput` (a hostname, label keys).
 */
export const targetInputSchema = z.union([
  z.string().min(1).max(200),
  z
    .object({
      address: z.string().min(1).max(200).optional(),
      name: z.string().min(1).max(253).optional(),
      port: z.number().int().min(1).max(65_535).optional(),
      labels: z
        .record(z.string().max(100), z.union([z.string().max(1000), z.number(), z.boolean()]))
        .optional(),
    })
    .strict()
    .refine((t) => t.address !== undefined || t.name !== undefined, 'give an address or a name'),
]);

/** POST /api/v1/runs: the same options as `fleetprobe run`. Unknown fields are refused (a typo must not be ignored). */
export const runRequestSchema = z
  .object({
    check: z.string().min(1).max(100).describe('check name: tcp, http, dns, ssh'),
    targets: z
      .array(targetInputSchema)
      .min(1)
      .max(10_000)
      .describe(
        'target specs (10.0.0.1, 10.0.0.0/24, [2001:db8::1]:8443, host.example:22) or objects {address, name, port, labels}',
      ),
    args: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("the check's arguments; files (identity, knownHosts, ca) by credential name, never by path"),
    concurrency: z.number().int().min(1).max(10_000).default(256).describe('checks in flight'),
    timeoutMs: z
      .number()
      .int()
      .min(1)
      .max(600_000)
      .optional()
      .describe("per-target deadline (default: the check's)"),
    retries: z.number().int().min(0).max(10).default(0).describe('retries after error/timeout'),
    rate: z.number().positive().max(1_000_000).optional().describe('most checks started per second'),
  })
  .strict();
export type RunRequest = z.output<typeof runRequestSchema>;

const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);

export const listRunsQuery = z
  .object({
    check: z.string().optional(),
    state: z.enum(RUN_STATES).optional(),
    /** Runs whose id starts with this (the 8-character ids the dashboard shows). */
    idPrefix: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'letters, digits and - only')
      .optional(),
    monitor: z.string().min(1).max(200).optional().describe('only the rounds of this monitor'),
    limit: limit(1000, 50),
    cursor: z.string().optional(),
  })
  .strict();

const filterText = (what: string) => z.string().max(200).optional().describe(what);

/** The result filter of the results, count and export routes (labels come as `label.<key>=<value>`). */
const resultFilterFields = {
  status: z.enum(STATUSES).optional(),
  target: filterText('exact target address (or name)'),
  reason: filterText('exact reason: a failure group together with status'),
  text: filterText('substring of the message, case-insensitive'),
  address: filterText('IPv4 CIDR (10.1.0.0/16) or a prefix of the target (10.1.)'),
  name: filterText('substring of the target name, case-insensitive'),
};

export const listResultsQuery = z
  .object({
    ...resultFilterFields,
    limit: limit(10_000, 100),
    cursor: z.string().optional(),
    total: z
      .enum(['true', 'false'])
      .optional()
      .describe('also answer `total`, the number of matching results'),
  })
  .strict();

export const exportResultsQuery = z.object(resultFilterFields).strict();

export const groupsQuery = z
  .object({
    status: z
      .enum(STATUSES)
      .optional()
      .describe('groups of this status only (default: every status but pass)'),
    limit: limit(1000, 100),
  })
  .strict();

export const diffQuery = z
  .object({
    limit: limit(10_000, 100),
    cursor: z.string().optional(),
    change: z.enum(DIFF_KINDS).optional().describe('one kind of change only'),
  })
  .strict();

/** Most `label.<key>` filters in one query. */
const MAX_LABEL_FILTERS = 16;

/**
 * Splits `label.<key>=<value>` parameters off a query string's object: `{labels, rest}`. Throws a 400
 * ApiError for an empty key, a repeated key, too long keys or values, or too many label filters.
 */
export function splitLabelParams(query: unknown): {
  labels: Record<string, string>;
  rest: Record<string, unknown>;
} {
  const labels: Record<string, string> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (!k.startsWith('label.')) {
      rest[k] = v;
      continue;
    }
    const key = k.slice('label.'.length);
    if (key === '' || key.length > 100)
      throw new ApiError('bad_request', `query.${k}: label key must be 1-100 characters`);
    if (typeof v !== 'string') throw new ApiError('bad_request', `query.${k}: give the label once`);
    if (v.length > 200) throw new ApiError('bad_request', `query.${k}: label value is over 200 characters`);
    labels[key] = v;
  }
  if (Object.keys(labels).length > MAX_LABEL_FILTERS)
    throw new ApiError('bad_request', `query: at most ${MAX_LABEL_FILTERS} label.<key> filters`);
  return { labels, rest };
}

export const runIdParams = z.object({ id: z.string().min(1).max(100) });
export const diffParams = z.object({ a: z.string().min(1).max(100), b: z.string().min(1).max(100) });
