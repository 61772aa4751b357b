import { z } from 'zod';
import { STATUSES } from '../engine/result.js';
import { RUN_STATES } from '../store/store.js';

/** POST /api/v1/runs: the same options as `fleetprobe run`. Unknown fields are refused (a typo must not be ignored). */
export const runRequestSchema = z
  .object({
    check: z.string().min(1).max(100).describe('check name: tcp, http, dns, ssh'),
    targets: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(10_000)
      .describe('target specs: 10.0.0.1, 10.0.0.0/24, [2001:db8::1]:8443, host.example:22'),
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

export const listResultsQuery = z
  .object({
    status: z.enum(STATUSES).optional(),
    target: z.string().optional(),
    limit: limit(10_000, 100),
    cursor: z.string().optional(),
  })
  .strict();

export const diffQuery = z.object({ limit: limit(10_000, 100), cursor: z.string().optional() }).strict();

export const runIdParams = z.object({ id: z.string().min(1).max(100) });
export const diffParams = z.object({ a: z.string().min(1).max(100), b: z.string().min(1).max(100) });
