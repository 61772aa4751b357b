import { isIPv4 } from 'node:net';
import * as z from 'zod';
import { argsInput } from '../checks/validate-args.js';
import { type Result, STATUSES } from '../engine/result.js';
import { resultFor } from '../engine/result-for.js';
import { intToIpv4, ipv4ToInt } from '../targets/ip.js';
import { EMPTY_LABELS, freezeLabels } from '../targets/labels.js';
import type { Target } from '../targets/target.js';
import { DistMessageError } from './errors.js';

/**
 * The wire format of the distributed mode: JSON, validated with zod on receipt. Versioned (`v: 1`).
 *
 * Targets travel compactly: a run of consecutive IPv4 addresses with no name and the same port and labels
 * (what a CIDR expands to) is one `{r: [first, count]}` entry; a run of targets given by name alone (no
 * address, port or labels: a bulk DNS run's names) is one `{ns: [name, ...]}` entry; anything else is one
 * `{a, n, p, l}` entry.
 */
const labelsSchema = z.record(z.string(), z.string());
const wireTargetSchema = z.union([
  // First: the all-optional `{a, n, p, l}` object below would take `{ns}` as an empty target.
  z.strictObject({ ns: z.array(z.string().min(1)).min(1) }),
  z.object({
    r: z.tuple([
      z.ipv4(),
      z
        .number()
        .int()
        .min(1)
        .max(1 << 24),
    ]),
    p: z.number().int().min(0).max(65535).optional(),
    l: labelsSchema.optional(),
  }),
  z.object({
    a: z.string().min(1).optional(),
    n: z.string().min(1).optional(),
    p: z.number().int().min(0).max(65535).optional(),
    l: labelsSchema.optional(),
  }),
]);
export type WireTarget = z.infer<typeof wireTargetSchema>;

export const shardOptionsSchema = z.object({
  timeoutMs: z.number().positive().optional(),
  retries: z.number().int().min(0).max(100),
  concurrency: z.number().int().min(1).max(100_000),
  /** The run's global rate (checks started per second over all workers); grants come from the coordinator. */
  ratePerSec: z.number().positive().optional(),
});
export type ShardOptions = z.infer<typeof shardOptionsSchema>;

export const shardSchema = z.object({
  v: z.literal(1),
  runId: z.string().min(1),
  /** 0-based shard number; shard `seq` holds the run's targets in order after shards 0..seq-1. */
  seq: z.number().int().min(0),
  check: z.string().min(1),
  args: z.unknown(),
  options: shardOptionsSchema,
  /** Number of targets (the sum over `targets`, ranges expanded). */
  count: z.number().int().min(0),
  targets: z.array(wireTargetSchema),
});
export type ShardMessage = z.infer<typeof shardSchema>;

const resultSchema = z.object({
  run: z.string(),
  target: z.string(),
  port: z.number().nullable(),
  name: z.string().nullable(),
  labels: labelsSchema,
  check: z.string(),
  status: z.enum(STATUSES),
  durationMs: z.number(),
  startedAt: z.string(),
  attempts: z.number(),
  message: z.string(),
  reason: z.string().optional(),
  data: z.record(z.string(), z.unknown()),
});

export const resultBatchSchema = z.object({
  v: z.literal(1),
  runId: z.string().min(1),
  seq: z.number().int().min(0),
  /** Which delivery of the shard produced this batch (a redelivered shard starts over). */
  delivery: z.number().int().min(1),
  batch: z.number().int().min(0),
  /** The last batch of the shard: every target of the shard has a result in this delivery's batches. */
  final: z.boolean(),
  worker: z.string(),
  results: z.array(resultSchema),
});
export type ResultBatch = z.infer<typeof resultBatchSchema>;

export const heartbeatSchema = z.object({
  v: z.literal(1),
  name: z.string().min(1),
  /** Unique per process (a restarted worker with the same name gets a new id). */
  id: z.string().min(1),
  state: z.enum(['running', 'draining', 'stopped']),
  /** Checks in flight, summed over the worker's shards. */
  inFlight: z.number().int().min(0),
  /** Shards the worker holds. */
  shards: z.number().int().min(0),
  /** Results published since start. */
  processed: z.number().int().min(0),
  startedAt: z.number(),
  /** Epoch ms when the worker sent this. */
  at: z.number(),
});
export type Heartbeat = z.infer<typeof heartbeatSchema>;

/**
 * Validated check arguments as plain JSON for the wire: the worker re-validates them with the check's own
 * schema, so they travel in their input form: the input `validateCheckArgs` validated them from. Arguments
 * validated some other way travel as JSON of the output, where a RegExp becomes its `/source/flags` literal
 * and a Date its ISO string (other transformed values would not validate again).
 */
export function argsToWire(args: unknown): unknown {
  if (args === undefined) return {};
  const input = argsInput(args);
  return JSON.parse(
    input !== undefined
      ? JSON.stringify(input)
      : JSON.stringify(args, function (this: Record<string, unknown>, key: string, value: unknown) {
          const raw = this[key];
          if (raw instanceof RegExp) return `/${raw.source}/${raw.flags}`;
          return value;
        }),
  );
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return enc.encode(JSON.stringify(value));
}

/** Parses and validates; throws `DistMessageError` (never a raw SyntaxError/ZodError). */
export function decodeMessage<T>(schema: z.ZodType<T>, subject: string, data: Uint8Array): T {
  let raw: unknown;
  try {
    raw = JSON.parse(dec.decode(data));
  } catch (err) {
    throw new DistMessageError(subject, 'not JSON', { cause: err });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DistMessageError(
      subject,
      `invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

/** The integer form of a canonical dotted IPv4 address (one that round-trips), else undefined. */
function canonicalIpv4(address: string): number | undefined {
  if (!isIPv4(address)) return undefined;
  const n = ipv4ToInt(address);
  return intToIpv4(n) === address ? n : undefined;
}

function sameLabels(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>> | undefined,
): boolean {
  const ka = Object.keys(a);
  const bb = b ?? {};
  if (ka.length !== Object.keys(bb).length) return false;
  return ka.every((k) => a[k] === bb[k]);
}

/**
 * Incremental encoder: `push` targets in order, `size` estimates the encoded JSON bytes so far
 * (the coordinator cuts a shard before it would exceed its byte budget).
 */
export class WireTargetsBuilder {
  readonly entries: WireTarget[] = [];
  count = 0;
  bytes = 2;
  #last:
    | { start: number; n: number; entry: { r: [string, number]; p?: number; l?: Record<string, string> } }
    | undefined;
  /** The names of the last entry when it is a `{ns}` one. */
  #names: string[] | undefined;

  push(target: Target): void {
    if (target.address === undefined && target.port === undefined && target.name !== undefined) {
      if (hasNoLabels(target.labels)) {
        this.pushName(target.name);
        return;
      }
    }
    this.count++;
    const ip =
      target.address !== undefined && target.name === undefined ? canonicalIpv4(target.address) : undefined;
    const last = this.#last;
    if (
      ip !== undefined &&
      last &&
      last.start + last.n === ip &&
      last.entry.p === target.port &&
      sameLabels(target.labels, last.entry.l)
    ) {
      last.n++;
      last.entry.r[1] = last.n;
      return;
    }
    let entry: WireTarget;
    if (ip !== undefined && target.address !== undefined) {
      const e: { r: [string, number]; p?: number; l?: Record<string, string> } = { r: [target.address, 1] };
      if (target.port !== undefined) e.p = target.port;
      if (Object.keys(target.labels).length > 0) e.l = { ...target.labels };
      this.#last = { start: ip, n: 1, entry: e };
      entry = e;
    } else {
      this.#last = undefined;
      const e: { a?: string; n?: string; p?: number; l?: Record<string, string> } = {};
      if (target.address !== undefined) e.a = target.address;
      if (target.name !== undefined) e.n = target.name;
      if (target.port !== undefined) e.p = target.port;
      if (Object.keys(target.labels).length > 0) e.l = { ...target.labels };
      entry = e;
    }
    this.#names = undefined;
    this.entries.push(entry);
    // A range grows by a few digits at most; a new entry costs its JSON length.
    this.bytes += entryBytes(entry) + 8;
  }

  /** Pushes the target given by `name` alone (no address, port or labels). */
  pushName(name: string): void {
    this.count++;
    this.#last = undefined;
    this.bytes += name.length + 3; // "…",
    if (this.#names) {
      this.#names.push(name);
      return;
    }
    this.#names = [name];
    this.entries.push({ ns: this.#names });
    this.bytes += 16; // {"ns":[]} less one comma, and the 8 every entry is counted more
  }
}

function hasNoLabels(labels: Readonly<Record<string, string>>): boolean {
  for (const _ in labels) return false;
  return true;
}

/**
 * About the JSON length of `entry`: counted for the usual entry without labels (JSON.stringify per target
 * costs ~0.6 µs, on the thread that feeds every other), strings taken as needing no escapes.
 */
function entryBytes(entry: Exclude<WireTarget, { ns: string[] }>): number {
  if (entry.l !== undefined) return JSON.stringify(entry).length;
  const e = entry as { r?: [string, number]; a?: string; n?: string; p?: number };
  let bytes = 1; // the braces, less the comma the first field does not have
  if (e.r !== undefined) bytes += 10 + e.r[0].length + digits(e.r[1]); // ,"r":["…",n]
  if (e.a !== undefined) bytes += 7 + e.a.length; // ,"a":"…"
  if (e.n !== undefined) bytes += 7 + e.n.length;
  if (e.p !== undefined) bytes += 5 + digits(e.p); // ,"p":n
  return bytes;
}

function digits(n: number): number {
  return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : String(n).length;
}

/** Expands wire targets back into `Target`s, lazily. */
export function* decodeTargets(entries: readonly WireTarget[]): Generator<Target> {
  for (const e of entries) {
    if ('ns' in e) {
      for (const name of e.ns) yield { labels: EMPTY_LABELS, name };
      continue;
    }
    // Most targets have no labels: they share one frozen empty object instead of a copy each.
    const labels = e.l === undefined ? EMPTY_LABELS : freezeLabels({ ...e.l });
    if ('r' in e && e.r) {
      const start = canonicalIpv4(e.r[0]) ?? 0;
      for (let i = 0; i < e.r[1]; i++) {
        const t: { address: string; port?: number; labels: Record<string, string> } = {
          address: intToIpv4((start + i) >>> 0),
          labels,
        };
        if (e.p !== undefined) t.port = e.p;
        yield t;
      }
    } else {
      const w = e as { a?: string; n?: string; p?: number };
      const t: { address?: string; name?: string; port?: number; labels: Record<string, string> } = {
        labels,
      };
      if (w.a !== undefined) t.address = w.a;
      if (w.n !== undefined) t.name = w.n;
      if (w.p !== undefined) t.port = w.p;
      yield t;
    }
  }
}

/**
 * A `cancelled`/`error` result for a target that never ran (cancelled run, dead-lettered shard). Built by the
 * engine's `resultFor`, so it hits the same (run, target, port) row as a checked target would.
 */
export function syntheticResult(
  runId: string,
  check: string,
  target: Target,
  status: 'cancelled' | 'error',
  message: string,
  portDefaults: { args?: unknown; defaultPort?: number | undefined } = {},
): Result {
  return resultFor(runId, { name: check, defaultPort: portDefaults.defaultPort }, portDefaults.args, target, {
    status,
    message,
  });
}
