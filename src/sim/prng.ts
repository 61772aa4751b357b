/** A 32-bit integer finaliser (lowbias32): good avalanche, cheap. */
export function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * A stateless seeded hash of (seed, a, b) to an unsigned 32-bit integer: the simulator derives every
 * per-host choice from it, so a host's faults depend only on (seed, index) and nothing is stored.
 */
export function hash3(seed: number, a: number, b: number): number {
  return mix32(mix32(mix32(seed ^ 0x9e3779b9) ^ a) + Math.imul(b, 0x85ebca6b));
}
