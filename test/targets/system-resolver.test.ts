import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { hostnameResolver, openTargets, parseResolverAddress } from '../../src/targets/index.js';

/** A tiny authoritative DNS server on 127.0.0.1 (UDP, port 0). Unknown names are NXDOMAIN. */
const zone: Record<string, { A?: string[]; AAAA?: string[]; rcode?: 'SERVFAIL' }> = {
  'web.test': { A: ['127.20.0.1', '127.20.0.2'], AAAA: ['::1'] },
  'v6only.test': { AAAA: ['2001:db8::5'] },
  'empty.test': {},
  'broken.test': { rcode: 'SERVFAIL' },
};
const silent = new Set(['slow.test']);
let server: Socket;
let port: number;
let silentQueries = 0;
let onSilentQuery: (() => void) | undefined;

beforeAll(async () => {
  server = createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const query = dnsPacket.decode(msg);
    const q = query.questions?.[0];
    if (!q) return;
    const name = q.name.toLowerCase();
    if (silent.has(name)) {
      silentQueries++;
      onSilentQuery?.();
      return;
    }
    const entry = zone[name];
    const type = q.type as 'A' | 'AAAA';
    const answers = (entry?.[type] ?? []).map((data) => ({
      type,
      name: q.name,
      ttl: 60,
      class: 'IN' as const,
      data,
    }));
    // dns-packet encodes the rcode from the low 4 bits of `flags`: NXDOMAIN = 3, SERVFAIL = 2.
    const rcode = entry === undefined ? 3 : entry.rcode === 'SERVFAIL' ? 2 : 0;
    const reply = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | ((query.flags ?? 0) & dnsPacket.RECURSION_DESIRED) | rcode,
      questions: query.questions,
      answers,
    } as dnsPacket.Packet);
    server.send(reply, rinfo.port, rinfo.address);
  });
  server.bind(0, '127.0.0.1');
  await once(server, 'listening');
  port = server.address().port;
});

afterAll(() => {
  server.close();
});

describe('hostnameResolver against a real DNS server on loopback', () => {
  it('returns A then AAAA records', async () => {
    const resolve = hostnameResolver(`127.0.0.1:${port}`, { timeoutMs: 2000, tries: 2 });
    expect(await resolve('web.test', new AbortController().signal)).toEqual([
      '127.20.0.1',
      '127.20.0.2',
      '::1',
    ]);
    expect(await resolve('v6only.test', new AbortController().signal)).toEqual(['2001:db8::5']);
    expect(await resolve('empty.test', new AbortController().signal)).toEqual([]);
  });

  it('rejects with ENOTFOUND for NXDOMAIN and ESERVFAIL for a failing server', async () => {
    const resolve = hostnameResolver(`127.0.0.1:${port}`, { timeoutMs: 2000, tries: 1 });
    await expect(resolve('missing.test', new AbortController().signal)).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
    await expect(resolve('broken.test', new AbortController().signal)).rejects.toMatchObject({
      code: 'ESERVFAIL',
    });
  });

  it('aborting cancels the lookup and rejects with the signal reason', async () => {
    // Long timeout: only the abort can end this lookup quickly.
    const resolve = hostnameResolver(`127.0.0.1:${port}`, { timeoutMs: 60_000, tries: 1 });
    const controller = new AbortController();
    const reason = new Error('cancel');
    const before = silentQueries;
    onSilentQuery = () => controller.abort(reason); // abort once the server has seen the query
    try {
      await expect(resolve('slow.test', controller.signal)).rejects.toBe(reason);
    } finally {
      onSilentQuery = undefined;
    }
    expect(silentQueries).toBeGreaterThan(before);
  });

  it('feeds --resolve through openTargets', async () => {
    const source = await openTargets({ resolveDomains: ['web.test'], resolver: `127.0.0.1:${port}` });
    expect(source.total).toBe(3);
    const addresses: string[] = [];
    for await (const t of source.targets()) addresses.push(t.address!);
    expect(addresses).toEqual(['127.20.0.1', '127.20.0.2', '::1']);
    await source.close();
    await expect(
      openTargets({ resolveDomains: ['empty.test'], resolver: `127.0.0.1:${port}` }),
    ).rejects.toMatchObject({ code: 'FP_BAD_TARGET', where: '--resolve empty.test' });
  });
});

describe('parseResolverAddress', () => {
  it.each([
    ['192.0.2.53', '192.0.2.53'],
    ['192.0.2.53:5353', '192.0.2.53:5353'],
    ['2001:db8::53', '2001:db8::53'],
    ['[2001:db8::53]:5353', '[2001:db8::53]:5353'],
  ])('accepts %s', (text, expected) => {
    expect(parseResolverAddress(text)).toBe(expected);
  });
  it.each(['dns.example', '192.0.2.53:0', '192.0.2.53:70000', '[2001:db8::53', '[2001:db8::53]x', '1.2.3'])(
    'rejects %s with a UsageError',
    (text) => {
      expect(() => parseResolverAddress(text)).toThrow(UsageError);
      expect(() => hostnameResolver(text)).toThrow(UsageError);
    },
  );
});
