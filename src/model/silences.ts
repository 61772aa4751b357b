import { isIPv4, isIPv6 } from 'node:net';
import * as z from 'zod';
import { ipv4ToInt, ipv6ToBigInt } from '../targets/ip.js';
import { type LabelMatcher, matcherSchema, matchesAll, parseMatcher } from './label-matchers.js';

/**
 * A silence or maintenance window: alerts it matches between `startsAt` and `endsAt` are recorded (with the
 * silenced flag) but not sent. It matches an alert when every given criterion does:
 * - `monitor`: the alert's monitor;
 * - `matchers`: every label matcher (`pop="waw"`, `severity!=info`, `pop=~"waw|fra"`);
 * - `targets`: addresses, names or CIDR blocks; every target causing the alert (the one target of a target
 *   alert, each DOWN member of a cohort or fleet alert) lies in one of them.
 * A silence names at least one criterion: one that matches everything is refused.
 */
export interface Silence {
  readonly id: string;
  readonly monitor: string | null;
  readonly matchers: readonly LabelMatcher[];
  readonly targets: readonly string[];
  /** ISO-8601. */
  readonly startsAt: string;
  /** ISO-8601; the silence ends (exclusive). */
  readonly endsAt: string;
  readonly comment: string;
  readonly createdBy: string;
  readonly createdAt: string;
}

const isoTime = z.iso.datetime({ offset: true }).transform((s) => new Date(s).toISOString());

const targetSpec = z.string().refine((s) => parseBlock(s) !== null, {
  error: (iss) => `expected an address, hostname or CIDR block, got ${JSON.stringify(iss.input)}`,
});

/** A silence as given in the config file or an API body (`id` and `createdAt` are assigned when it is stored). */
export const silenceInputSchema = z
  .strictObject({
    monitor: z.string().min(1).optional(),
    matchers: z.array(matcherSchema).default([]),
    targets: z.array(targetSpec).default([]),
    startsAt: isoTime.optional(),
    endsAt: isoTime,
    comment: z.string().max(1000).default(''),
    createdBy: z.string().max(200).default(''),
  })
  .refine((s) => s.monitor !== undefined || s.matchers.length > 0 || s.targets.length > 0, {
    error: 'a silence needs monitor, matchers or targets (one matching every alert is refused)',
  })
  .refine((s) => s.startsAt === undefined || s.startsAt < s.endsAt, {
    error: 'endsAt must be after startsAt',
    path: ['endsAt'],
  });
export type SilenceInput = z.output<typeof silenceInputSchema>;

/** What a silence is matched against: an alert's monitor, labels and the addresses of the targets causing it. */
export interface SilenceSubject {
  readonly monitor: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly members: readonly string[];
}

/** Whether `silence` is in force at `atMs`. */
export function silenceActive(silence: Silence, atMs: number): boolean {
  return Date.parse(silence.startsAt) <= atMs && atMs < Date.parse(silence.endsAt);
}

/** Whether `silence` matches `alert` (ignoring time). */
export function silenceMatches(silence: Silence, alert: SilenceSubject): boolean {
  if (silence.monitor !== null && silence.monitor !== alert.monitor) return false;
  if (!matchesAll(silence.matchers, alert.labels)) return false;
  if (silence.targets.length === 0) return true;
  if (alert.members.length === 0) return false;
  const blocks = targetBlocks(silence);
  for (const member of alert.members) if (!blocks.some((b) => b !== null && inBlock(member, b))) return false;
  return true;
}

/** The id of the first silence in force at `atMs` that matches `alert`, or null. */
export function silencedBy(alert: SilenceSubject, silences: readonly Silence[], atMs: number): string | null {
  for (const s of silences) if (silenceActive(s, atMs) && silenceMatches(s, alert)) return s.id;
  return null;
}

/** Rebuilds stored matchers (their text form); a stored one that no longer parses is an error of the store. */
export function matchersFromText(texts: readonly string[]): LabelMatcher[] {
  return texts.map((t) => {
    const m = parseMatcher(t);
    if (typeof m === 'string') throw new Error(`stored silence matcher: ${m}`);
    return m;
  });
}

type Block =
  | { kind: 'v4'; first: number; last: number }
  | { kind: 'v6'; first: bigint; last: bigint }
  | { kind: 'name'; name: string };

/** Each silence's parsed `targets`, kept per silence object (a silence never changes): matched against many alerts. */
const parsedTargets = new WeakMap<Silence, readonly (Block | null)[]>();

function targetBlocks(silence: Silence): readonly (Block | null)[] {
  let blocks = parsedTargets.get(silence);
  if (blocks === undefined) {
    blocks = silence.targets.map(parseBlock);
    parsedTargets.set(silence, blocks);
  }
  return blocks;
}

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?$/i;

/** `10.0.0.0/24`, `10.0.0.5`, `2001:db8::/64`, `host.example` -> a block; null when it is none of them. */
function parseBlock(text: string): Block | null {
  const t = text.trim();
  const slash = t.indexOf('/');
  const address = slash === -1 ? t : t.slice(0, slash);
  const prefixText = slash === -1 ? null : t.slice(slash + 1);
  if (isIPv4(address)) {
    const prefix = prefixText === null ? 32 : Number(prefixText);
    if (!/^\d{1,2}$/.test(prefixText ?? '32') || prefix > 32) return null;
    const size = 2 ** (32 - prefix);
    const first = Math.floor(ipv4ToInt(address) / size) * size;
    return { kind: 'v4', first, last: first + size - 1 };
  }
  if (isIPv6(address)) {
    const prefix = prefixText === null ? 128 : Number(prefixText);
    if (!/^\d{1,3}$/.test(prefixText ?? '128') || prefix > 128) return null;
    const shift = BigInt(128 - prefix);
    const first = (ipv6ToBigInt(address.toLowerCase()) >> shift) << shift;
    return { kind: 'v6', first, last: first + (1n << shift) - 1n };
  }
  if (prefixText === null && NAME.test(t)) return { kind: 'name', name: t.toLowerCase() };
  return null;
}

function inBlock(member: string, b: Block): boolean {
  if (b.kind === 'name') return member.toLowerCase() === b.name;
  if (b.kind === 'v4') {
    if (!isIPv4(member)) return false;
    const n = ipv4ToInt(member);
    return n >= b.first && n <= b.last;
  }
  if (!isIPv6(member)) return false;
  const n = ipv6ToBigInt(member.toLowerCase());
  return n >= b.first && n <= b.last;
}
