import { describe, expect, it } from 'vitest';
import { foldAddresses, foldIpv4Ranges, intToIpv4, ipv4ToInt } from '../../src/targets/index.js';

function range(from: string, count: number): string[] {
  const start = ipv4ToInt(from);
  return Array.from({ length: count }, (_, i) => intToIpv4(start + i));
}

/** Expands folded items back into addresses (the inverse, to check nothing is lost or added). */
function unfold(items: string[]): string[] {
  const out: string[] = [];
  for (const item of items) {
    const slash = item.indexOf('/');
    const bracket = item.indexOf('[');
    if (slash !== -1 && !item.includes(':')) {
      out.push(...range(item.slice(0, slash), 2 ** (32 - Number(item.slice(slash + 1)))));
    } else if (bracket !== -1) {
      const prefix = item.slice(0, bracket);
      for (const part of item.slice(bracket + 1, -1).split(',')) {
        const [lo, hi = lo] = part.split('-').map(Number);
        for (let n = lo!; n <= hi!; n++) out.push(`${prefix}${n}`);
      }
    } else {
      out.push(item);
    }
  }
  return out;
}

describe('foldAddresses', () => {
  it('folds the example from the summary', () => {
    const input = [...range('127.20.4.1', 60), ...range('127.20.3.0', 128)];
    expect(foldAddresses(input)).toEqual(['127.20.3.0/25', '127.20.4.[1-60]']);
  });

  it('folds leftovers sharing three octets into one bracket range', () => {
    const input = [
      '10.0.0.1',
      '10.0.0.2',
      '10.0.0.3',
      '10.0.0.7',
      '10.0.0.9',
      '10.0.0.10',
      '10.0.0.11',
      '10.0.0.12',
    ];
    expect(foldAddresses(input)).toEqual(['10.0.0.[1-3,7,9-12]']);
  });

  it('emits blocks of /24 and larger as CIDR across octets', () => {
    expect(foldAddresses(range('10.1.0.0', 65536))).toEqual(['10.1.0.0/16']);
    expect(foldAddresses(range('10.1.0.0', 512 + 3))).toEqual(['10.1.0.0/23', '10.1.2.[0-2]']);
    expect(foldAddresses(range('10.0.255.0', 256 + 256 + 256))).toEqual(['10.0.255.0/24', '10.1.0.0/23']);
  });

  it('a group that is exactly one aligned block of 4+ is CIDR; small or unaligned ones are ranges', () => {
    expect(foldAddresses(range('10.0.0.4', 4))).toEqual(['10.0.0.4/30']);
    expect(foldAddresses(range('10.0.0.2', 4))).toEqual(['10.0.0.[2-5]']);
    expect(foldAddresses(range('10.0.0.0', 2))).toEqual(['10.0.0.[0-1]']);
    expect(foldAddresses(['10.0.0.5'])).toEqual(['10.0.0.5']);
    expect(foldAddresses([...range('10.0.0.0', 128), '10.0.0.200'])).toEqual(['10.0.0.[0-127,200]']);
  });

  it('splits a run crossing a /24 boundary', () => {
    expect(foldAddresses(range('10.0.0.250', 12))).toEqual(['10.0.0.[250-255]', '10.0.1.[0-5]']);
  });

  it('ignores duplicates and input order, orders by address numerically', () => {
    expect(foldAddresses(['10.0.0.9', '9.0.0.1', '10.0.0.8', '10.0.0.9', '100.0.0.1'])).toEqual([
      '9.0.0.1',
      '10.0.0.[8-9]',
      '100.0.0.1',
    ]);
  });

  it('handles the ends of the address space', () => {
    expect(foldAddresses(['0.0.0.0', '255.255.255.255'])).toEqual(['0.0.0.0', '255.255.255.255']);
    expect(foldAddresses(range('255.255.255.0', 256))).toEqual(['255.255.255.0/24']);
  });

  it('lists IPv6 and names as given, sorted and deduplicated, after IPv4', () => {
    expect(
      foldAddresses(['b.example', '2001:db8::2', '10.0.0.1', 'a.example', '2001:db8::1', 'a.example']),
    ).toEqual(['10.0.0.1', '2001:db8::1', '2001:db8::2', 'a.example', 'b.example']);
    expect(foldAddresses([])).toEqual([]);
  });

  it('loses and adds nothing on a random sample (round trip)', () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const input = new Set<string>();
    for (let i = 0; i < 3000; i++) input.add(intToIpv4(ipv4ToInt('10.7.0.0') + (rand() % 2048)));
    for (const a of range('10.9.0.0', 1024 + 17)) input.add(a);
    const folded = foldAddresses([...input]);
    expect(new Set(unfold(folded))).toEqual(input);
    expect(unfold(folded)).toHaveLength(input.size);
    // Fewer items than /24 groups plus CIDR blocks: at most one item per /24 touched.
    expect(folded.length).toBeLessThanOrEqual(8 + 5);
  });
});

describe('foldIpv4Ranges', () => {
  const ip = (s: string) => s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  it('folds the run summary example', () => {
    expect(
      foldIpv4Ranges([
        [ip('127.20.3.0'), ip('127.20.3.127')],
        [ip('127.20.4.1'), ip('127.20.4.60')],
      ]),
    ).toEqual(['127.20.3.0/25', '127.20.4.[1-60]']);
  });
  it('folds a whole /12 into one block and agrees with foldAddresses', () => {
    expect(foldIpv4Ranges([[ip('127.64.0.0'), ip('127.79.255.255')]])).toEqual(['127.64.0.0/12']);
    expect(foldIpv4Ranges([[ip('10.0.0.0'), ip('10.0.1.9')]])).toEqual(
      foldAddresses(Array.from({ length: 266 }, (_, i) => `10.0.${i >> 8}.${i & 255}`)),
    );
  });
});
