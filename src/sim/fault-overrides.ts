import { FleetprobeError } from '../core/errors.js';
import { intToIpv4, ipv4ToInt } from './ipv4.js';
import { faultsOf, SIM_PROTOCOLS, type SimProtocol } from './profile.js';

/** Most overrides held at once: lookups scan the list, so it stays small; clear or remove to make room. */
export const MAX_FAULT_OVERRIDES = 1024;

/** A fault override request is invalid (bad range, unknown fault, outside the fleet, too many). Code `FP_SIM_FAULT`. */
export class SimFaultError extends FleetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FP_SIM_FAULT', message, options);
  }
}

/** What a caller asks for: `fault` on every host of `range`, for one protocol or for all that know it. */
export interface FaultOverrideRequest {
  /** `127.20.0.7`, a CIDR `127.20.0.0/26`, or `first-last` (`127.20.0.0-127.20.0.49`). */
  readonly range: string;
  /** A fault name of the protocol(s), e.g. `refused`, `tarpit`, `healthy`. */
  readonly fault: string;
  /**
   * One of `http`, `tls`, `tcp`, `dns`, `ssh` (`tls` is the certificate side of https), or `all`
   * (default): every protocol that has a fault of that name (`healthy` covers all five).
   */
  readonly protocol?: SimProtocol | 'all';
}

/** A stored override: an inclusive host-index range and the fault per protocol it sets. */
export interface FaultOverride {
  /** Increasing: a higher id is more recent and wins where ranges overlap. */
  readonly id: number;
  /** Inclusive host indexes (0 = the fleet's base address). */
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly first: string;
  readonly last: string;
  readonly faults: Readonly<Partial<Record<SimProtocol, string>>>;
  /** ISO-8601 time it was set. */
  readonly createdAt: string;
}

/** The part of the fleet an override can address. */
export interface FleetSpan {
  /** First address as an unsigned 32-bit integer. */
  readonly baseInt: number;
  readonly size: number;
}

/**
 * Runtime fault overrides of a simulated fleet: a short list of index ranges consulted before the
 * seeded model (the model itself stores nothing per host). The most recent override naming a protocol
 * wins for that protocol; at most `MAX_FAULT_OVERRIDES` are held (adding more throws `SimFaultError`),
 * so memory stays bounded whatever a controller sends.
 */
export class FaultOverrides {
  readonly #span: FleetSpan;
  /** Newest first, so the first hit is the winner. */
  #list: FaultOverride[] = [];
  #nextId = 1;
  /** Union bounds of every override: most hosts are outside them and skip the scan. */
  #minIndex = Number.POSITIVE_INFINITY;
  #maxIndex = Number.NEGATIVE_INFINITY;

  constructor(span: FleetSpan) {
    this.#span = span;
  }

  /** Adds an override and returns it. Throws `SimFaultError` naming the bad field. */
  set(request: FaultOverrideRequest): FaultOverride {
    const [firstInt, lastInt] = parseRange(request.range);
    const { baseInt, size } = this.#span;
    const firstIndex = Math.max(0, firstInt - baseInt);
    const lastIndex = Math.min(size - 1, lastInt - baseInt);
    if (firstIndex > lastIndex) {
      throw new SimFaultError(
        `range ${request.range} is outside the fleet ${intToIpv4(baseInt)}-${intToIpv4(baseInt + size - 1)}`,
      );
    }
    const faults = faultsFor(request.fault, request.protocol ?? 'all');
    if (this.#list.length >= MAX_FAULT_OVERRIDES) {
      throw new SimFaultError(`already ${MAX_FAULT_OVERRIDES} fault overrides: reset or remove some first`);
    }
    const override: FaultOverride = Object.freeze({
      id: this.#nextId++,
      firstIndex,
      lastIndex,
      first: intToIpv4(baseInt + firstIndex),
      last: intToIpv4(baseInt + lastIndex),
      faults: Object.freeze(faults),
      createdAt: new Date().toISOString(),
    });
    this.#list.unshift(override);
    this.#bound();
    return override;
  }

  /** Removes one override by id; false when there is none. */
  remove(id: number): boolean {
    const before = this.#list.length;
    this.#list = this.#list.filter((o) => o.id !== id);
    this.#bound();
    return this.#list.length < before;
  }

  /** Removes every override (the seeded model applies again); returns how many there were. */
  clear(): number {
    const n = this.#list.length;
    this.#list = [];
    this.#bound();
    return n;
  }

  /** Current overrides, oldest first. */
  list(): FaultOverride[] {
    return [...this.#list].reverse();
  }

  get size(): number {
    return this.#list.length;
  }

  /** The overriding fault of host `index` for `protocol`, or undefined (the seeded model decides). */
  faultFor(protocol: SimProtocol, index: number): string | undefined {
    if (index < this.#minIndex || index > this.#maxIndex) return undefined;
    for (const o of this.#list) {
      if (index < o.firstIndex || index > o.lastIndex) continue;
      const f = o.faults[protocol];
      if (f !== undefined) return f;
    }
    return undefined;
  }

  #bound(): void {
    this.#minIndex = Math.min(Number.POSITIVE_INFINITY, ...this.#list.map((o) => o.firstIndex));
    this.#maxIndex = Math.max(Number.NEGATIVE_INFINITY, ...this.#list.map((o) => o.lastIndex));
  }
}

function faultsFor(fault: string, protocol: SimProtocol | 'all'): Partial<Record<SimProtocol, string>> {
  if (typeof fault !== 'string' || fault === '') throw new SimFaultError('fault: a fault name is required');
  if (protocol === 'all') {
    const faults: Partial<Record<SimProtocol, string>> = {};
    for (const p of SIM_PROTOCOLS) if (faultsOf(p).includes(fault)) faults[p] = fault;
    if (Object.keys(faults).length === 0)
      throw new SimFaultError(`fault: "${fault}" is no fault of any protocol`);
    return faults;
  }
  if (!(SIM_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new SimFaultError(`protocol: "${protocol}" is not one of ${SIM_PROTOCOLS.join(', ')}, all`);
  }
  if (!faultsOf(protocol).includes(fault)) {
    throw new SimFaultError(
      `fault: "${fault}" is not a ${protocol} fault (${faultsOf(protocol).join(', ')})`,
    );
  }
  return { [protocol]: fault };
}

/** `a.b.c.d`, `a.b.c.d/len` or `first-last` -> inclusive [first, last] as unsigned integers. */
function parseRange(range: string): [number, number] {
  if (typeof range !== 'string') throw new SimFaultError('range: an address, CIDR or first-last is required');
  const bad = () => new SimFaultError(`range: "${range}" is not an IPv4 address, CIDR or first-last`);
  const slash = range.indexOf('/');
  if (slash !== -1) {
    const addr = ipv4ToInt(range.slice(0, slash));
    const lenText = range.slice(slash + 1);
    if (addr < 0 || !/^(0|[1-9][0-9]?)$/.test(lenText) || Number(lenText) > 32) throw bad();
    const hostBits = 32 - Number(lenText);
    const first = hostBits === 32 ? 0 : Math.floor(addr / 2 ** hostBits) * 2 ** hostBits;
    return [first, first + 2 ** hostBits - 1];
  }
  const dash = range.indexOf('-');
  if (dash !== -1) {
    const first = ipv4ToInt(range.slice(0, dash));
    const last = ipv4ToInt(range.slice(dash + 1));
    if (first < 0 || last < 0) throw bad();
    if (first > last) throw new SimFaultError(`range: "${range}" ends before it starts`);
    return [first, last];
  }
  const addr = ipv4ToInt(range);
  if (addr < 0) throw bad();
  return [addr, addr];
}
