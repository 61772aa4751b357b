import { describe, expect, it } from 'vitest';
import { TargetParseError } from '../../src/core/errors.js';
import {
  bigIntToIpv6,
  EMPTY_LABELS,
  expandSpec,
  intToIpv4,
  ipv4ToInt,
  ipv6ToBigInt,
  type ParsedSpec,
  parseTargetSpec,
  specCount,
} from '../../src/targets/index.js';

function one(spec: string) {
  const parsed = parseTargetSpec(spec, 'argument 1');
  if (parsed.kind !== 'target') throw new Error(`expected a single target for ${spec}`);
  return parsed.target;
}

function bad(spec: string, where = 'argument 3'): TargetParseError {
  try {
    parseTargetSpec(spec, where);
  } catch (err) {
    expect(err).toBeInstanceOf(TargetParseError);
    return err as TargetParseError;
  }
  throw new Error(`expected ${spec} to be rejected`);
}

describe('parseTargetSpec: single targets', () => {
  it('parses an IPv4 address', () => {
    expect(one('10.0.0.1')).toEqual({ address: '10.0.0.1', labels: {} });
    expect(one('10.0.0.1').labels).toBe(EMPTY_LABELS);
    expect(Object.isFrozen(EMPTY_LABELS)).toBe(true);
  });
  it('parses an IPv6 address, lowercased', () => {
    expect(one('2001:DB8::1')).toEqual({ address: '2001:db8::1', labels: {} });
    expect(one('::ffff:192.0.2.1')).toEqual({ address: '::ffff:192.0.2.1', labels: {} });
  });
  it('parses [IPv6]:port', () => {
    expect(one('[2001:db8::1]:8443')).toEqual({ address: '2001:db8::1', port: 8443, labels: {} });
    expect(one('[::1]')).toEqual({ address: '::1', labels: {} });
  });
  it('parses IPv4:port', () => {
    expect(one('127.0.0.1:8080')).toEqual({ address: '127.0.0.1', port: 8080, labels: {} });
  });
  it('parses hostnames with and without a port, as names without an address', () => {
    expect(one('host.example')).toEqual({ name: 'host.example', labels: {} });
    expect(one('Host.Example:22')).toEqual({ name: 'host.example', port: 22, labels: {} });
    expect(one('localhost')).toEqual({ name: 'localhost', labels: {} });
    expect(one('a-1.b2.example.')).toEqual({ name: 'a-1.b2.example.', labels: {} });
    expect(one('  10.0.0.2  ')).toEqual({ address: '10.0.0.2', labels: {} });
  });
  it('accepts the port bounds 1 and 65535', () => {
    expect(one('h.example:1').port).toBe(1);
    expect(one('h.example:65535').port).toBe(65535);
  });
});

describe('parseTargetSpec: blocks', () => {
  it('expands an IPv4 /28 including network and broadcast', () => {
    const spec = parseTargetSpec('192.0.2.0/28', 'argument 1');
    expect(spec.kind).toBe('block');
    expect(specCount(spec)).toBe(16n);
    const addrs = [...expandSpec(spec)].map((t) => t.address);
    expect(addrs).toHaveLength(16);
    expect(addrs[0]).toBe('192.0.2.0');
    expect(addrs[15]).toBe('192.0.2.15');
  });
  it('/32 and /31 are all their addresses', () => {
    expect([...expandSpec(parseTargetSpec('10.9.9.9/32', 'a'))].map((t) => t.address)).toEqual(['10.9.9.9']);
    expect([...expandSpec(parseTargetSpec('10.9.9.8/31', 'a'))].map((t) => t.address)).toEqual([
      '10.9.9.8',
      '10.9.9.9',
    ]);
  });
  it('masks host bits to the containing block', () => {
    const spec = parseTargetSpec('10.0.0.77/30', 'a') as Extract<ParsedSpec, { kind: 'block' }>;
    expect(spec.network).toBe('10.0.0.76');
    expect([...spec.expand()].map((t) => t.address)).toEqual([
      '10.0.0.76',
      '10.0.0.77',
      '10.0.0.78',
      '10.0.0.79',
    ]);
  });
  it('crosses octet boundaries', () => {
    const addrs = [...expandSpec(parseTargetSpec('10.0.255.254/23', 'a'))].map((t) => t.address);
    expect(addrs).toHaveLength(512);
    expect(addrs[0]).toBe('10.0.254.0');
    expect(addrs[255]).toBe('10.0.254.255');
    expect(addrs[256]).toBe('10.0.255.0');
    expect(addrs[511]).toBe('10.0.255.255');
  });
  it('counts a /8 arithmetically and streams it lazily; breaking closes the generator', () => {
    const spec = parseTargetSpec('10.0.0.0/8', 'a');
    expect(specCount(spec)).toBe(16777216n);
    const gen = expandSpec(spec);
    const seen: string[] = [];
    for (const t of gen) {
      seen.push(t.address!);
      if (seen.length === 5) break;
    }
    expect(seen).toEqual(['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4']);
    // The for-of break called return(): the generator (and its inner block generator) is finished.
    expect(gen.next()).toEqual({ done: true, value: undefined });
  });
  it('counts /0 without expanding', () => {
    expect(specCount(parseTargetSpec('0.0.0.0/0', 'a'))).toBe(2n ** 32n);
    expect(specCount(parseTargetSpec('::/0', 'a'))).toBe(2n ** 128n);
  });
  it('expands IPv6 blocks in canonical form', () => {
    const spec = parseTargetSpec('2001:DB8::/126', 'a');
    expect(specCount(spec)).toBe(4n);
    expect([...expandSpec(spec)].map((t) => t.address)).toEqual([
      '2001:db8::',
      '2001:db8::1',
      '2001:db8::2',
      '2001:db8::3',
    ]);
    const big = parseTargetSpec('2001:db8::/64', 'a');
    expect(specCount(big)).toBe(2n ** 64n);
    const first = expandSpec(big).next().value;
    expect(first?.address).toBe('2001:db8::');
  });
  it('carries a port on a bracketed IPv6 block', () => {
    const spec = parseTargetSpec('[2001:db8::/127]:443', 'a');
    expect([...expandSpec(spec)]).toEqual([
      { address: '2001:db8::', port: 443, labels: {} },
      { address: '2001:db8::1', port: 443, labels: {} },
    ]);
  });
});

describe('parseTargetSpec: bad specs', () => {
  it.each([
    ['10.0.0.300', '10.0.0.300'],
    ['10.0.0', '10.0.0'],
    ['1.2.3.4.5', '1.2.3.4.5'],
    ['10.0.0.1:0', '"0"'],
    ['10.0.0.1:99999', '99999'],
    ['host.example:', 'port'],
    ['host.example:2x', '2x'],
    ['[2001:db8::1', '[2001:db8::1'],
    ['[2001:db8::1]8443', '8443'],
    ['[10.0.0.1]:80', '10.0.0.1'],
    ['2001:db8:::1', '2001:db8:::1'],
    ['2001:db8::zz', '2001:db8::zz'],
    ['bad_host.example', 'bad_host.example'],
    ['-bad.example', '-bad.example'],
    ['bad-.example', 'bad-.example'],
    ['a..b', 'a..b'],
    [`${'a'.repeat(64)}.example`, 'a'.repeat(64)],
    ['192.0.2.0/33', '33'],
    ['192.0.2.0/-1', '-1'],
    ['192.0.2.0/', 'prefix'],
    ['192.0.2.300/24', '192.0.2.300'],
    ['2001:db8::/129', '129'],
    ['host.example/24', 'host.example'],
    ['', 'empty'],
  ])('rejects %j naming the bad value', (spec, mention) => {
    const err = bad(spec);
    expect(err.code).toBe('FP_BAD_TARGET');
    expect(err.where).toBe('argument 3');
    expect(err.message.startsWith('argument 3: ')).toBe(true);
    expect(err.message).toContain(mention);
    expect(err.message).not.toContain('\n');
  });
  it('rejects names longer than 253 characters', () => {
    const name = Array.from({ length: 5 }, () => 'a'.repeat(60)).join('.');
    expect(bad(name).code).toBe('FP_BAD_TARGET');
  });
});

describe('ip helpers', () => {
  it('round-trips IPv4 integers', () => {
    for (const a of ['0.0.0.0', '255.255.255.255', '10.20.30.40', '128.0.0.1']) {
      expect(intToIpv4(ipv4ToInt(a))).toBe(a);
    }
    expect(ipv4ToInt('255.255.255.255')).toBe(2 ** 32 - 1);
  });
  it('formats IPv6 per RFC 5952', () => {
    expect(bigIntToIpv6(ipv6ToBigInt('2001:0db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(bigIntToIpv6(ipv6ToBigInt('2001:db8:0:1:1:1:1:1'))).toBe('2001:db8:0:1:1:1:1:1');
    expect(bigIntToIpv6(0n)).toBe('::');
    expect(bigIntToIpv6(1n)).toBe('::1');
    expect(bigIntToIpv6(ipv6ToBigInt('::ffff:1.2.3.4'))).toBe('::ffff:102:304');
    expect(bigIntToIpv6(ipv6ToBigInt('fe80::'))).toBe('fe80::');
  });
});
