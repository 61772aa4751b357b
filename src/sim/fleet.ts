import { UsageError } from '../core/errors.js';
import type { FaultOverrides } from './fault-overrides.js';
import type {
  DnsFault,
  FleetModel,
  HttpFault,
  SimHost,
  SshFault,
  TcpFault,
  TlsFault,
} from './fleet-model.js';
import { intToIpv4, ipv4ToInt } from './ipv4.js';
import { hash3 } from './prng.js';
import { faultsOf, HEALTHY_PROFILE, SIM_PROTOCOLS, type SimProfile, type SimProtocol } from './profile.js';

export interface FleetOptions {
  /** Number of hosts (1 ..); host i is `base + i`. */
  readonly hosts: number;
  /** First address, default `127.20.0.0`. The whole range must stay inside 127.0.0.0/8. */
  readonly base?: string;
  /** PRNG seed (default 1): same seed and profile -> same faults for every host. */
  readonly seed?: number;
  /** DNS zone, default `fleet.test`: host i is named `h<i>.<zone>`. */
  readonly zone?: string;
  /** Default: every host healthy. */
  readonly profile?: SimProfile;
  /**
   * Runtime overrides consulted before the profile (see `FaultOverrides`); `host()` reflects their current
   * state on every call. Default: none.
   */
  readonly overrides?: FaultOverrides;
}

const LOOPBACK_FIRST = 0x7f000000;
const LOOPBACK_LAST = 0x7fffffff;
const LATENCY_SALT = 0x51a7;

/**
 * A slot table for one protocol's mix: `B` slots (B = 100, 1000 or 10000, the smallest in which every
 * positive weight gets a slot), filled by largest remainder. Host i of block `floor(i / B)` takes slot
 * `(a * j + b) mod B` (j = i mod B; a, b seeded per block): a permutation, so every block of B
 * consecutive hosts holds exactly the mix's proportions, and `host(i)` stays O(1) with no stored state.
 */
interface SlotTable {
  readonly size: number;
  readonly slots: Uint8Array;
}

function buildSlotTable(protocol: SimProtocol, mix: Partial<Record<string, number>>): SlotTable {
  const faults = faultsOf(protocol);
  const weights = faults.map((f) => mix[f] ?? 0);
  const total = weights.reduce((a, b) => a + b, 0);
  for (const size of [100, 1000, 10_000]) {
    const exact = weights.map((w) => (w / total) * size);
    const counts = exact.map(Math.floor);
    let left = size - counts.reduce((a, b) => a + b, 0);
    const order = exact.map((e, k) => [e - Math.floor(e), k] as const).sort((x, y) => y[0] - x[0]);
    for (const [, k] of order) {
      if (left <= 0) break;
      counts[k] = (counts[k] ?? 0) + 1;
      left--;
    }
    if (size < 10_000 && weights.some((w, k) => w > 0 && counts[k] === 0)) continue;
    const slots = new Uint8Array(size);
    let at = 0;
    counts.forEach((c, k) => {
      slots.fill(k, at, at + c);
      at += c;
    });
    return { size, slots };
  }
  throw new Error('unreachable');
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * Builds the simulator's fleet model. Nothing per host is stored: `host(i)` derives the host from
 * (seed, i) on every call, so 100,000 hosts cost no memory. Throws `UsageError` on a bad range.
 */
export function createFleetModel(options: FleetOptions): FleetModel {
  const size = options.hosts;
  const base = options.base ?? '127.20.0.0';
  const seed = (options.seed ?? 1) >>> 0;
  const zone = (options.zone ?? 'fleet.test').replace(/\.$/, '').toLowerCase();
  const profile = options.profile ?? HEALTHY_PROFILE;
  if (!Number.isSafeInteger(size) || size <= 0)
    throw new UsageError(`--hosts must be a positive integer, got ${size}`);
  const baseInt = ipv4ToInt(base);
  if (baseInt < 0) throw new UsageError(`--base must be an IPv4 address, got ${base}`);
  if (baseInt < LOOPBACK_FIRST || baseInt > LOOPBACK_LAST)
    throw new UsageError(`--base ${base} is not in 127.0.0.0/8`);
  if (baseInt + size - 1 > LOOPBACK_LAST) {
    throw new UsageError(`--base ${base} + ${size} hosts overflows 127.255.255.255`);
  }
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(zone)) {
    throw new UsageError(`--zone must be a DNS name, got ${options.zone}`);
  }

  const tables = new Map<SimProtocol, SlotTable>();
  for (const p of SIM_PROTOCOLS) {
    const mix = profile.mix[p];
    if (mix) tables.set(p, buildSlotTable(p, mix));
  }
  const defaultIndex = SIM_PROTOCOLS.map((p) =>
    Math.max(0, faultsOf(p).indexOf(profile.defaults[p] ?? 'healthy')),
  );
  const ranges = profile.ranges;
  const { minMs, maxMs } = profile.slow;
  const overrides = options.overrides;

  function pick(protocol: SimProtocol, pIndex: number, index: number): string {
    const overridden = overrides?.faultFor(protocol, index);
    if (overridden !== undefined) return overridden;
    for (const r of ranges) {
      const f = r[protocol];
      if (f !== undefined && index >= r.from && index <= r.to) return f;
    }
    const faults = faultsOf(protocol);
    const table = tables.get(protocol);
    if (!table) return faults[defaultIndex[pIndex]!]!;
    const B = table.size;
    const block = Math.floor(index / B);
    const h = hash3(seed, block, pIndex + 1);
    let a = (h % B) | 1;
    while (gcd(a, B) !== 1) a += 2;
    const b = hash3(seed, block, pIndex + 101) % B;
    const slot = (a * (index % B) + b) % B;
    return faults[table.slots[slot]!]!;
  }

  function host(index: number): SimHost {
    if (!Number.isInteger(index) || index < 0 || index >= size) {
      throw new RangeError(`host index ${index} outside 0..${size - 1}`);
    }
    const http = pick('http', 0, index) as HttpFault;
    const latencyMs = http === 'slow' ? minMs + (hash3(seed, index, LATENCY_SALT) % (maxMs - minMs + 1)) : 0;
    return {
      index,
      address: intToIpv4(baseInt + index),
      name: `h${index}.${zone}`,
      http,
      tls: pick('tls', 1, index) as TlsFault,
      tcp: pick('tcp', 2, index) as TcpFault,
      dns: pick('dns', 3, index) as DnsFault,
      ssh: pick('ssh', 4, index) as SshFault,
      latencyMs,
    };
  }

  return Object.freeze({
    size,
    base: intToIpv4(baseInt),
    zone,
    seed,
    host,
    hostAt(address: string): SimHost | undefined {
      const v = ipv4ToInt(address);
      if (v < 0) return undefined;
      const index = v - baseInt;
      return index >= 0 && index < size ? host(index) : undefined;
    },
  });
}

/**
 * The host named `h<i>.<zone>` (case-insensitive, trailing dot allowed), or undefined. For the DNS
 * server's forward lookups; `hostAt()` covers addresses (and so PTR names once decoded).
 */
export function hostByName(model: FleetModel, name: string): SimHost | undefined {
  const n = name.toLowerCase().replace(/\.$/, '');
  const suffix = `.${model.zone}`;
  if (!n.endsWith(suffix) || n.charCodeAt(0) !== 104 /* h */) return undefined;
  const digits = n.slice(1, n.length - suffix.length);
  if (!/^(0|[1-9][0-9]{0,9})$/.test(digits)) return undefined;
  const index = Number(digits);
  return index < model.size ? model.host(index) : undefined;
}
