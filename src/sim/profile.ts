import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { UsageError } from '../core/errors.js';
import { DNS_FAULTS, HTTP_FAULTS, SSH_FAULTS, TCP_FAULTS, TLS_FAULTS } from './fleet-model.js';

/** The five fault dimensions of a simulated host. */
export const SIM_PROTOCOLS = ['http', 'tls', 'tcp', 'dns', 'ssh'] as const;
export type SimProtocol = (typeof SIM_PROTOCOLS)[number];

const FAULTS = {
  http: HTTP_FAULTS,
  tls: TLS_FAULTS,
  tcp: TCP_FAULTS,
  dns: DNS_FAULTS,
  ssh: SSH_FAULTS,
} as const satisfies Record<SimProtocol, readonly string[]>;

/** Proportions per fault (any non-negative weights; normalised). */
export type Mix = Partial<Record<string, number>>;

/** A validated profile: what `createFleetModel` draws each host's faults from. */
export interface SimProfile {
  readonly name: string;
  /** Per protocol: fault weights; a protocol without a mix uses `defaults` (else `healthy`). */
  readonly mix: Readonly<Partial<Record<SimProtocol, Mix>>>;
  readonly defaults: Readonly<Partial<Record<SimProtocol, string>>>;
  /** Inclusive index ranges; the first range naming a protocol wins for that protocol. */
  readonly ranges: readonly ProfileRange[];
  /** Latency of `slow` hosts: uniform in [minMs, maxMs]. */
  readonly slow: { readonly minMs: number; readonly maxMs: number };
}

export interface ProfileRange {
  readonly from: number;
  readonly to: number;
  readonly http?: string;
  readonly tls?: string;
  readonly tcp?: string;
  readonly dns?: string;
  readonly ssh?: string;
}

/**
 * The `mixed` profile: mostly healthy, every fault of every protocol present. Weights are whole
 * percents, so every block of 100 consecutive hosts holds exactly these proportions (see fleet.ts):
 * every fault appears in any 100 consecutive hosts.
 */
export const MIXED_PROFILE: SimProfile = Object.freeze({
  name: 'mixed',
  mix: {
    http: {
      healthy: 80,
      slow: 3,
      tarpit: 2,
      reset: 2,
      refused: 2,
      garbage: 2,
      http5xx: 3,
      'wrong-body': 2,
      'endless-body': 2,
      'drip-body': 2,
    },
    tls: { healthy: 90, 'expired-cert': 5, 'wrong-name-cert': 5 },
    tcp: { healthy: 90, tarpit: 4, reset: 3, refused: 3 },
    dns: { healthy: 85, nxdomain: 3, servfail: 3, 'no-reply': 3, truncated: 3, 'wrong-address': 3 },
    ssh: {
      healthy: 88,
      'wrong-host-key': 2,
      'auth-refused': 2,
      'hang-before-auth': 2,
      'hang-after-auth': 2,
      'nonzero-exit': 2,
      'huge-output': 2,
    },
  },
  defaults: {},
  ranges: [],
  slow: { minMs: 50, maxMs: 400 },
});

/** Every host healthy on every protocol. */
export const HEALTHY_PROFILE: SimProfile = Object.freeze({
  name: 'healthy',
  mix: {},
  defaults: {},
  ranges: [],
  slow: { minMs: 50, maxMs: 400 },
});

const faultOf = <P extends SimProtocol>(p: P) => z.enum(FAULTS[p] as unknown as [string, ...string[]]);
const mixOf = <P extends SimProtocol>(p: P) =>
  z
    .partialRecord(faultOf(p), z.number().nonnegative())
    .refine((m) => Object.values(m).some((w) => (w ?? 0) > 0), 'a mix needs at least one positive weight');

const perProtocol = {
  http: faultOf('http').optional(),
  tls: faultOf('tls').optional(),
  tcp: faultOf('tcp').optional(),
  dns: faultOf('dns').optional(),
  ssh: faultOf('ssh').optional(),
};

const profileFileSchema = z
  .object({
    defaults: z.strictObject(perProtocol).optional(),
    ranges: z
      .array(
        z
          .strictObject({ from: z.int().nonnegative(), to: z.int().nonnegative(), ...perProtocol })
          .refine((r) => r.from <= r.to, 'range needs from <= to'),
      )
      .max(10_000)
      .optional(),
    mix: z
      .strictObject({
        http: mixOf('http').optional(),
        tls: mixOf('tls').optional(),
        tcp: mixOf('tcp').optional(),
        dns: mixOf('dns').optional(),
        ssh: mixOf('ssh').optional(),
      })
      .optional(),
    slow: z
      .strictObject({ minMs: z.int().nonnegative(), maxMs: z.int().nonnegative() })
      .refine((s) => s.minMs <= s.maxMs, 'slow needs minMs <= maxMs')
      .optional(),
  })
  .strict();

/**
 * Resolves `--profile`: `healthy`, `mixed`, or a path to a JSON profile file
 * (`{defaults, ranges, mix, slow}`, see README). Throws `UsageError` naming the file and the bad field.
 */
export function loadProfile(spec: string): SimProfile {
  if (spec === 'healthy') return HEALTHY_PROFILE;
  if (spec === 'mixed') return MIXED_PROFILE;
  let text: string;
  try {
    text = readFileSync(spec, 'utf8');
  } catch (err) {
    throw new UsageError(`--profile ${spec}: not healthy, mixed, or a readable file`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${spec}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseProfile(json, spec);
}

/** Validates a profile object (the parsed file); `where` names its source in errors. */
export function parseProfile(json: unknown, where: string): SimProfile {
  const parsed = profileFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : '(root)';
    throw new UsageError(`${where}: ${path}: ${issue?.message ?? 'invalid profile'}`, {
      cause: parsed.error,
    });
  }
  const p = parsed.data;
  return Object.freeze({
    name: where,
    mix: (p.mix ?? {}) as SimProfile['mix'],
    defaults: p.defaults ?? {},
    ranges: p.ranges ?? [],
    slow: p.slow ?? { minMs: 50, maxMs: 400 },
  });
}

/** The fault names of one protocol, in declaration order. */
export function faultsOf(protocol: SimProtocol): readonly string[] {
  return FAULTS[protocol];
}
