import { isIPv4, isIPv6 } from 'node:net';
import { UsageError } from '../core/errors.js';
import { ipv4ToInt, ipv6ToBigInt } from '../targets/ip.js';
import type { ParsedSpec } from '../targets/spec.js';

interface Cidr {
  readonly family: 4 | 6;
  readonly network: bigint;
  readonly prefix: number;
  readonly text: string;
}

const width = (family: 4 | 6) => (family === 4 ? 32 : 128);
const toBig = (address: string, family: 4 | 6): bigint =>
  family === 4 ? BigInt(ipv4ToInt(address)) : ipv6ToBigInt(address.toLowerCase());

/**
 * The CIDR blocks a run may reach (`--allow-targets 127.0.0.0/8,::1`). A bare address means a /32 (/128).
 * A target spec is allowed when the whole of it lies inside one allowed block: an address inside, or a
 * block whose every address is inside. Names are refused under an allow-list: the address a name resolves
 * to is only known at check time (and may change), so it cannot be vetted up front.
 */
export class AllowList {
  readonly #blocks: Cidr[];

  constructor(cidrs: readonly string[]) {
    this.#blocks = cidrs.map(parseCidr);
  }

  get blocks(): readonly string[] {
    return this.#blocks.map((b) => b.text);
  }

  /** Returns null when allowed, else the reason it is not. */
  refusal(spec: ParsedSpec): string | null {
    let family: 4 | 6;
    let first: bigint;
    let prefix: number;
    if (spec.kind === 'target') {
      const address = spec.target.address;
      if (address === undefined) return 'names are not allowed when an allow-list is set; give addresses';
      family = isIPv4(address) ? 4 : 6;
      first = toBig(address, family);
      prefix = width(family);
    } else {
      family = spec.family;
      first = toBig(spec.network, family);
      prefix = spec.prefix;
    }
    for (const b of this.#blocks) {
      if (b.family !== family || prefix < b.prefix) continue;
      const shift = BigInt(width(family) - b.prefix);
      if (first >> shift === b.network >> shift) return null;
    }
    return `outside the allowed target blocks (${this.blocks.join(', ')})`;
  }
}

function parseCidr(text: string): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  const address = slash === -1 ? t : t.slice(0, slash);
  const family = isIPv4(address) ? 4 : isIPv6(address) ? 6 : undefined;
  if (family === undefined)
    throw new UsageError(`--allow-targets: "${text}" is not an IP address or CIDR block`);
  const prefix = slash === -1 ? width(family) : Number(t.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > width(family)) {
    throw new UsageError(`--allow-targets: "${text}" has a bad prefix length`);
  }
  return { family, network: toBig(address, family), prefix, text: t };
}
