import * as z from 'zod';
import { alertRulesSchema } from '../model/alert-rules.js';
import { type MonitorSpec, TARGET_STATES } from '../model/monitor-spec.js';
import { ApiError } from './errors.js';
import { targetInputSchema } from './schemas.js';

const NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const DURATION = /^\d+(?:\.\d+)?(?:ms|s|m|h|d)?$/;
const duration = z
  .union([z.string().regex(DURATION, 'expected a duration like 30s, 5m or 1500ms'), z.number().positive()])
  .transform(String);
const labels = z.record(z.string().regex(/^[A-Za-z0-9_.\-/]{1,100}$/), z.string().max(1000));

/** The fields of a monitor that may be set through the API (the config file's monitor entry, inline targets only). */
const monitorFields = {
  check: z.string().min(1).max(100).describe('check name: tcp, http, dns, ssh'),
  args: z
    .record(z.string(), z.unknown())
    .default({})
    .describe("the check's arguments; files (identity, knownHosts, ca) by credential name, never by path"),
  targets: z
    .array(targetInputSchema)
    .min(1)
    .max(10_000)
    .describe('target specs (10.0.0.0/24, host:22) or objects {address, name, port, labels}'),
  interval: duration.describe('time between round starts: 30s, 5m'),
  timeout: duration.optional().describe("per-target deadline (default: the check's)"),
  concurrency: z.number().int().min(1).max(100_000).optional().describe('checks in flight per round (256)'),
  labels: labels.default({}).describe('labels added to every result of the monitor'),
  downAfter: z.number().int().min(1).max(1000).default(2).describe('non-pass results in a row before DOWN'),
  upAfter: z.number().int().min(1).max(1000).default(1).describe('passes in a row before UP again'),
  paused: z.boolean().default(false),
  flapHighPct: z
    .number()
    .min(1)
    .max(100)
    .optional()
    .describe('flapping starts at this share of changes (40)'),
  flapLowPct: z.number().min(0).max(100).optional().describe('flapping ends below this share (20)'),
  alerts: alertRulesSchema
    .optional()
    .describe(
      "alert rules, as a config monitor's `alerts:` (kind target, cohort, fleet, certificate, latency)",
    ),
};

/** POST /api/v1/monitors: a monitor defined through the API. Unknown fields are refused. */
export const monitorCreateSchema = z
  .object({ name: z.string().regex(NAME, 'letters, digits, _ . - (1..128)'), ...monitorFields })
  .strict();
export type MonitorCreate = z.output<typeof monitorCreateSchema>;

/** PATCH /api/v1/monitors/:name: the fields to change (the name is the identity and stays). */
export const monitorPatchSchema = z
  .object({
    check: monitorFields.check.optional(),
    args: z.record(z.string(), z.unknown()).optional(),
    targets: monitorFields.targets.optional(),
    interval: monitorFields.interval.optional(),
    timeout: monitorFields.timeout,
    concurrency: monitorFields.concurrency,
    labels: labels.optional(),
    downAfter: z.number().int().min(1).max(1000).optional(),
    upAfter: z.number().int().min(1).max(1000).optional(),
    paused: z.boolean().optional(),
    flapHighPct: monitorFields.flapHighPct,
    flapLowPct: monitorFields.flapLowPct,
    alerts: monitorFields.alerts.describe(
      'replaces the rules; [] removes them (their alerts resolve at once)',
    ),
  })
  .strict();
export type MonitorPatch = z.output<typeof monitorPatchSchema>;

export const monitorParams = z.object({ name: z.string().regex(NAME, 'not a monitor name') });

/** GET /monitors/:name/targets; `label.<key>=<value>` filters are read apart (any number of them). */
export const monitorTargetsQuery = z.object({
  state: z.enum(TARGET_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
  cursor: z.string().optional(),
});

export const monitorTransitionsQuery = z
  .object({
    since: z.iso.datetime({ offset: true }).optional().describe('ISO-8601; default: everything kept'),
    limit: z.coerce.number().int().min(1).max(10_000).default(100),
    cursor: z.string().optional(),
  })
  .strict();

export const targetHistoryParams = z.object({ address: z.string().min(1).max(200) });
export const targetHistoryQuery = z
  .object({
    monitor: z.string().regex(NAME).optional().describe('default: every monitor that has the target'),
    port: z.coerce.number().int().min(1).max(65_535).optional(),
    hours: z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 31)
      .default(24)
      .describe('latency series length'),
  })
  .strict();

const DURATION_PARTS = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function durationMs(text: string, where: string): number {
  const m = DURATION_PARTS.exec(text.trim());
  const ms = m ? Math.round(Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS]) : Number.NaN;
  if (!(ms >= 1)) throw new ApiError('bad_request', `${where}: "${text}" is not a duration like 30s or 5m`);
  if (ms > 7 * 86_400_000) throw new ApiError('bad_request', `${where}: "${text}" is longer than 7 days`);
  return ms;
}

/**
 * The spec of an API-defined monitor from a parsed request whose check exists (`check`: its registered
 * name). Arguments and targets are validated by the caller (the server under its API rules). Fields left
 * out are absent, so a stored and reloaded spec compares equal to this one. Throws ApiError 400.
 */
export function monitorSpecOf(req: MonitorCreate, check: string): MonitorSpec {
  if (req.flapHighPct !== undefined && req.flapLowPct !== undefined && req.flapLowPct > req.flapHighPct)
    throw new ApiError('bad_request', 'body.flapLowPct: must be at most flapHighPct');
  const spec: MonitorSpec = {
    name: req.name,
    check,
    args: req.args,
    inventory: { targets: req.targets },
    intervalMs: durationMs(req.interval, 'body.interval'),
    timeoutMs: req.timeout === undefined ? undefined : durationMs(req.timeout, 'body.timeout'),
    concurrency: req.concurrency,
    labels: req.labels,
    downAfter: req.downAfter,
    upAfter: req.upAfter,
    paused: req.paused,
    flapHighPct: req.flapHighPct,
    flapLowPct: req.flapLowPct,
    // No rules and an empty list are the same: the spec has none.
    alerts: req.alerts?.length ? req.alerts : undefined,
    source: 'api',
  };
  return JSON.parse(JSON.stringify(spec)) as MonitorSpec;
}
