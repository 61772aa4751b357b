import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import dnsPacket from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsClient, resolveHost } from '../../src/dns/index.js';
import { openTargets, systemResolve } from '../../src/targets/index.js';

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

describe('--resolve / hostname targets through our DNS client (as with --resolver) on a loopback server', () => {
  let client: DnsClient;
  beforeAll(() => {
    client = new DnsClient();
  });
  afterAll(async () => {
    await client.close();
  });
  const resolver = () => resolveHost(client, { address: '127.0.0.1', port });

  it('returns A then AAAA, [] for NXDOMAIN, and rejects a SERVFAIL', async () => {
    const signal = new AbortController().signal;
    expect(await resolver()('web.test', signal)).toEqual(['127.20.0.1', '127.20.0.2', '::1']);
    expect(await resolver()('v6only.test', signal)).toEqual(['2001:db8::5']);
    expect(await resolver()('nope.test', signal)).toEqual([]);
    await expect(resolver()('broken.test', signal)).rejects.toMatchObject({ code: 'FP_DNS_RESOLVE' });
  });

  it('stops waiting when aborted, after the server saw the query', async () => {
    const before = silentQueries;
    const controller = new AbortController();
    onSilentQuery = () => controller.abort(new Error('stop'));
    await expect(resolver()('slow.test', controller.signal)).rejects.toThrow('stop');
    onSilentQuery = undefined;
    expect(silentQueries).toBeGreaterThan(before);
  });

  it('feeds --resolve through openTargets', async () => {
    const source = await openTargets({ resolveDomains: ['web.test'], resolve: resolver() });
    expect(source.total).toBe(3);
    const addresses: string[] = [];
    for await (const t of source.targets()) addresses.push(t.address!);
    expect(addresses).toEqual(['127.20.0.1', '127.20.0.2', '::1']);
    await source.close();
    await expect(openTargets({ resolveDomains: ['empty.test'], resolve: resolver() })).rejects.toMatchObject({
      code: 'FP_BAD_TARGET',
      where: '--resolve empty.test',
    });
  });
});

describe('systemResolve (getaddrinfo)', () => {
  // Only names /etc/hosts answers: a test must not make the machine ask an outside DNS server.
  it('resolves localhost from /etc/hosts, IPv4 first', async () => {
    const addresses = await systemResolve('localhost', new AbortController().signal);
    expect(addresses[0]).toBe('127.0.0.1');
  });

  it('rejects with the reason of an already aborted signal', async () => {
    const reason = new Error('cancelled before');
    await expect(systemResolve('localhost', AbortSignal.abort(reason))).rejects.toBe(reason);
  });
});
