import * as z from 'zod';

/**
 * How a run executes, the same for `fleetprobe run`, the API, monitors and workers. Stored as the run's
 * `options`. Where the targets came from (files, `--resolve` domains) is part of the run's `targets`
 * description, not of its options.
 */
export const runOptionsSchema = z
  .object({
    /** Checks in flight (default 256). */
    concurrency: z.number().int().min(1).max(1_000_000).default(256),
    /** Per-target deadline in ms; absent: the check's own default. */
    timeoutMs: z.number().positive().max(86_400_000).optional(),
    /** Retries after `error`/`timeout` (default 0). */
    retries: z.number().int().min(0).max(100).default(0),
    /** Most checks started per second; absent: no limit. */
    ratePerSec: z.number().positive().max(1_000_000).optional(),
  })
  .strict();
export type RunOptions = z.output<typeof runOptionsSchema>;

/**
 * Reads stored options. Records written before the options had one shape used `rate` (the API) and carried
 * `files`/`resolve` (the CLI): both still read; what is not an option is dropped.
 */
export function readRunOptions(raw: unknown): RunOptions {
  const o = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  const parsed = runOptionsSchema.safeParse({
    concurrency: o.concurrency ?? undefined,
    retries: o.retries ?? undefined,
    timeoutMs: o.timeoutMs ?? undefined,
    ratePerSec: o.ratePerSec ?? o.rate ?? undefined,
  });
  // A record this version cannot read keeps the defaults rather than making the whole run unreadable.
  return parsed.success ? parsed.data : runOptionsSchema.parse({});
}
