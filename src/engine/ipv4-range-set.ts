/**
 * A set of IPv4 addresses kept as sorted, merged [start, end] ranges. Results arrive roughly in address
 * order, so most additions extend the last range; the ranges are re-sorted and merged when they grow,
 * which keeps memory proportional to the number of holes, not to the number of addresses.
 */
export class Ipv4RangeSet {
  #starts: number[] = [];
  #ends: number[] = [];
  #compactAt = 4096;
  size = 0;

  add(address: number): void {
    this.size++;
    const last = this.#ends.length - 1;
    if (last >= 0 && this.#ends[last] === address - 1) {
      this.#ends[last] = address;
      return;
    }
    this.#starts.push(address);
    this.#ends.push(address);
    if (this.#starts.length >= this.#compactAt) {
      this.#compact();
      this.#compactAt = Math.max(4096, this.#starts.length * 2);
    }
  }

  #compact(): void {
    const order = this.#starts.map((_, i) => i).sort((a, b) => this.#starts[a]! - this.#starts[b]!);
    const starts: number[] = [];
    const ends: number[] = [];
    for (const i of order) {
      const s = this.#starts[i]!;
      const e = this.#ends[i]!;
      const last = ends.length - 1;
      if (last >= 0 && s <= ends[last]! + 1) ends[last] = Math.max(ends[last]!, e);
      else {
        starts.push(s);
        ends.push(e);
      }
    }
    this.#starts = starts;
    this.#ends = ends;
  }

  /** Sorted, merged inclusive ranges. */
  ranges(): [number, number][] {
    this.#compact();
    return this.#starts.map((s, i) => [s, this.#ends[i]!]);
  }
}
