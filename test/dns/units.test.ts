import packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import {
  decodeReply,
  decodeReplyWithDnsPacket,
  encodeQuery,
  matchQuestion,
  QUESTION_CASE_DIFFERS,
  QUESTION_EXACT,
  QUESTION_MISMATCH,
  questionLength,
  questionNameOf,
} from '../../src/dns/codec.js';
import { decodeReplyFast } from '../../src/dns/fast-decode.js';
import { IdTable } from '../../src/dns/id-table.js';
import {
  AimdWindow,
  canonicalAddress,
  DnsQueryError,
  DnsServerSpecError,
  formatDnsServer,
  parseDnsServer,
  reverseName,
  TimerWheel,
} from '../../src/dns/index.js';
import type { WheelEntry } from '../../src/dns/timer-wheel.js';

describe('parseDnsServer', () => {
  it('parses IP, IP:PORT, [v6]:PORT, bare v6', () => {
    expect(parseDnsServer('127.0.0.53')).toEqual({ address: '127.0.0.53', port: 53 });
    expect(parseDnsServer('127.0.0.1:5353')).toEqual({ address: '127.0.0.1', port: 5353 });
    expect(parseDnsServer('[::1]:5300')).toEqual({ address: '::1', port: 5300 });
    expect(parseDnsServer('[::1]')).toEqual({ address: '::1', port: 53 });
    expect(parseDnsServer('2001:DB8:0:0::1')).toEqual({ address: '2001:db8::1', port: 53 });
  });

  it('rejects bad input with a usage error naming the spec', () => {
    for (const bad of [
      '',
      'dns.example',
      '127.0.0.1:',
      '127.0.0.1:0',
      '127.0.0.1:65536',
      '[::1',
      '[::1]x',
      '[1.2.3.4]:53',
      '1.2.3:53',
    ]) {
      expect(() => parseDnsServer(bad), bad).toThrow(DnsServerSpecError);
    }
    try {
      parseDnsServer('dns.example');
    } catch (err) {
      expect((err as DnsServerSpecError).code).toBe('FP_USAGE');
      expect((err as DnsServerSpecError).spec).toBe('dns.example');
    }
  });

  it('formats and canonicalises addresses as the kernel reports them', () => {
    expect(formatDnsServer({ address: '::1', port: 53 })).toBe('[::1]:53');
    expect(formatDnsServer({ address: '127.0.0.1', port: 53 })).toBe('127.0.0.1:53');
    expect(canonicalAddress('2001:0DB8:0000:0000:0001:0000:0000:0001')).toBe('2001:db8::1:0:0:1');
    expect(canonicalAddress('::ffff:7f00:1')).toBe('::ffff:127.0.0.1');
    expect(canonicalAddress('fe80:0:0:0:0:0:0:0')).toBe('fe80::');
  });
});

describe('reverseName', () => {
  it('gives in-addr.arpa and ip6.arpa names', () => {
    expect(reverseName('127.20.0.3')).toBe('3.0.20.127.in-addr.arpa');
    expect(reverseName('2001:db8::1')).toBe(
      '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
    );
    expect(reverseName('not-an-ip')).toBeUndefined();
  });
});

describe('codec', () => {
  it('encodes a query dns-packet reads back, with EDNS0 at 1232', () => {
    const q = packet.decode(encodeQuery(0x1234, 'www.Example.test.', 'MX', true, 1232));
    expect(q.id).toBe(0x1234);
    expect(q.flag_rd).toBe(true);
    expect(q.questions).toEqual([{ name: 'www.Example.test', type: 'MX', class: 'IN' }]);
    expect(q.additionals).toMatchObject([{ type: 'OPT', udpPayloadSize: 1232 }]);
    const plain = packet.decode(encodeQuery(1, '.', 'NS', false, 0));
    expect(plain.questions).toEqual([{ name: '.', type: 'NS', class: 'IN' }]);
    expect(plain.additionals).toEqual([]);
  });

  it('refuses names that cannot go on the wire', () => {
    expect(() => encodeQuery(1, 'a..b', 'A', true, 0)).toThrow(DnsQueryError);
    expect(() => encodeQuery(1, `${'a'.repeat(64)}.b`, 'A', true, 0)).toThrow(DnsQueryError);
    expect(() => encodeQuery(1, `${'a.'.repeat(130)}b`, 'A', true, 0)).toThrow(DnsQueryError);
    expect(() => encodeQuery(1, 'bücher.test', 'A', true, 0)).toThrow(DnsQueryError);
  });

  it('matches a reply to its query by question, case-insensitively, and only if QR is set', () => {
    const query = encodeQuery(7, 'h1.fleet.test', 'A', true, 1232);
    const qLen = questionLength(query);
    const reply = (name: string, type: 'A' | 'AAAA' = 'A', qr = true) =>
      packet.encode({ type: qr ? 'response' : 'query', id: 7, questions: [{ name, type }] });
    expect(matchQuestion(reply('h1.fleet.test'), query, qLen)).toBe(QUESTION_EXACT);
    expect(matchQuestion(reply('H1.FLEET.test'), query, qLen)).toBe(QUESTION_CASE_DIFFERS);
    expect(matchQuestion(reply('h2.fleet.test'), query, qLen)).toBe(QUESTION_MISMATCH);
    expect(matchQuestion(reply('h1.fleet.test', 'AAAA'), query, qLen)).toBe(QUESTION_MISMATCH);
    expect(matchQuestion(reply('h1.fleet.test', 'A', false), query, qLen)).toBe(QUESTION_MISMATCH);
  });

  it('names compressed to the question decode the same with the question name given as without', () => {
    const PTR_Q = [0xc0, 12]; // a pointer at the question's name
    const label = (text: string) => [text.length, ...Buffer.from(text, 'latin1')];
    const record = (name: number[], type: number, rdata: number[]) => [
      ...name,
      ...[0, type, 0, 1, 0, 0, 0, 5, rdata.length >> 8, rdata.length & 0xff],
      ...rdata,
    ];
    for (const name of ['x.t', 'x.t.', 'Deep.Sub.Example.test', '.']) {
      const question = encodeQuery(1, name, 'A', true, 0);
      const body = [
        ...record(PTR_Q, 1, [127, 0, 0, 255]),
        ...record([...label('www'), ...PTR_Q], 5, [...label('x'), ...PTR_Q]),
        ...record(PTR_Q, 15, [0, 10, ...label('mx'), ...PTR_Q]),
        ...record(PTR_Q, 2, [...label('ns'), ...PTR_Q]),
      ];
      const reply = Buffer.concat([question, Buffer.from(body)]);
      reply.writeUInt16BE(0x8500, 2); // QR, AA, RD
      reply.writeUInt16BE(3, 6); // three answers, one authority
      reply.writeUInt16BE(1, 8);
      const plain = decodeReplyWithDnsPacket(reply);
      expect(plain.answers.map((a) => a.name)).toContain(
        name === '.' ? 'www' : `www.${questionNameOf(name)}`,
      );
      expect(decodeReply(reply)).toEqual(plain);
      expect(decodeReplyFast(reply, questionNameOf(name))).toEqual(plain);
    }
    expect(questionNameOf('x.t.')).toBe('x.t');
    expect(questionNameOf('.')).toBe('.');
  });

  it('the hand decoder agrees with dns-packet, and declines what it does not know', () => {
    const soa = { mname: 'ns.t', rname: 'h.t', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 };
    const samples = [
      packet.encode({
        type: 'response',
        id: 1,
        flags: packet.AUTHORITATIVE_ANSWER,
        questions: [{ type: 'A', name: 'x.t' }],
        answers: [
          { type: 'CNAME', name: 'x.t', ttl: 5, data: 'y.t' },
          { type: 'A', name: 'y.t', ttl: 5, data: '127.1.2.3' },
          { type: 'AAAA', name: 'y.t', ttl: 5, data: '2001:db8::1:0:0:1' },
          { type: 'MX', name: 'x.t', ttl: 5, data: { preference: 10, exchange: 'mx.t' } },
          { type: 'TXT', name: 'x.t', ttl: 5, data: ['ab', 'cd'] },
          { type: 'NS', name: 'x.t', ttl: 5, data: 'ns.t' },
          { type: 'PTR', name: 'x.t', ttl: 5, data: 'p.t' },
        ],
        authorities: [{ type: 'SOA', name: 't', ttl: 5, data: soa }],
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as packet.Answer],
      }),
      packet.encode({ type: 'response', id: 2, flags: 3, questions: [{ type: 'A', name: 'n.t' }] }),
    ];
    for (const s of samples) expect(decodeReplyFast(s)).toEqual(decodeReplyWithDnsPacket(s));
    const srv = packet.encode({
      type: 'response',
      questions: [{ type: 'A', name: 's.t' }],
      answers: [
        { type: 'SRV', name: 's.t', ttl: 1, data: { priority: 1, weight: 2, port: 3, target: 't.t' } },
      ],
    });
    expect(decodeReplyFast(srv)).toBeUndefined();
    expect(decodeReplyWithDnsPacket(srv).answers[0]?.data).toBe('1 2 3 t.t');
  });
});

describe('IdTable', () => {
  it('holds one value per 16-bit id, counts them and lists them', () => {
    const t = new IdTable<string>();
    expect(t.values()).toEqual([]);
    t.set(0, 'a');
    t.set(0xffff, 'b');
    t.set(0xffff, 'c'); // replaces
    expect([t.size, t.get(0), t.get(0xffff), t.has(1), t.get(1)]).toEqual([2, 'a', 'c', false, undefined]);
    t.delete(0);
    t.delete(0); // twice: no effect
    t.delete(7); // never set
    expect([t.size, t.has(0), t.values()]).toEqual([1, false, ['c']]);
  });
});

describe('TimerWheel', () => {
  const entry = (fired: string[], id: string): WheelEntry => ({
    expiresTick: -1,
    wheelPrev: undefined,
    wheelNext: undefined,
    onTimer: () => fired.push(id),
  });

  it('fires after the delay rounded up to ticks, skips cancelled and re-scheduled entries', () => {
    let now = 0;
    const wheel = new TimerWheel(10, 8, () => now);
    const fired: string[] = [];
    const a = entry(fired, 'a');
    const b = entry(fired, 'b');
    const c = entry(fired, 'c');
    wheel.schedule(a, 25); // 3 ticks
    wheel.schedule(b, 10);
    wheel.schedule(c, 200); // more than one lap of 8 slots
    wheel.schedule(b, 50); // re-scheduled: fires once, later
    expect(wheel.size).toBe(3);
    now = 20;
    wheel.advance();
    expect(fired).toEqual([]);
    now = 30;
    wheel.advance();
    expect(fired).toEqual(['a']);
    wheel.cancel(c);
    for (; now < 1000; now += 10) wheel.advance();
    expect(fired).toEqual(['a', 'b']);
    expect(wheel.size).toBe(0);
    wheel.clear();
  });

  it('keeps no reference to a cancelled entry, and callbacks may cancel or re-schedule entries of their slot', () => {
    let now = 0;
    const wheel = new TimerWheel(10, 8, () => now);
    const fired: string[] = [];
    const a = entry(fired, 'a');
    const b = entry(fired, 'b');
    const c = entry(fired, 'c');
    const lapped = entry(fired, 'lapped');
    a.onTimer = () => {
      fired.push('a');
      if (fired.length > 1) return;
      wheel.cancel(b); // due in the same slot, after a
      wheel.schedule(c, 10); // due in the same slot too: moves one tick on
      wheel.schedule(a, 20); // itself, again
    };
    wheel.schedule(a, 10);
    wheel.schedule(b, 10);
    wheel.schedule(c, 10);
    wheel.schedule(lapped, 90); // tick 9: slot 1 again, a lap later
    const gone = entry(fired, 'gone');
    wheel.schedule(gone, 30);
    wheel.cancel(gone);
    expect([gone.wheelPrev, gone.wheelNext, gone.expiresTick]).toEqual([undefined, undefined, -1]);
    expect(wheel.size).toBe(4);
    now = 10;
    wheel.advance();
    expect(fired).toEqual(['a']);
    for (now = 20; now <= 90; now += 10) wheel.advance();
    expect(fired).toEqual(['a', 'c', 'a', 'lapped']); // c at tick 2, a at tick 3, lapped at tick 9
    expect(wheel.size).toBe(0);
    wheel.schedule(b, 10);
    wheel.clear(); // forgets live timers: the entry can be scheduled again
    expect([b.wheelPrev, b.expiresTick, wheel.size]).toEqual([undefined, -1, 0]);
    wheel.schedule(b, 10);
    now += 10;
    wheel.advance();
    expect(fired.at(-1)).toBe('b');
  });

  it('after a stall, catches up two ticks per callback so backlogged replies are read first', () => {
    let now = 0;
    const wheel = new TimerWheel(10, 64, () => now);
    const fired: string[] = [];
    wheel.schedule(entry(fired, 'a'), 10);
    wheel.schedule(entry(fired, 'b'), 40);
    now = 500; // the loop was blocked for 50 ticks
    wheel.advance();
    expect(fired).toEqual(['a']); // ticks 1-2 only
    wheel.advance(); // same instant: the wheel's clock now lags wall time by the stall
    expect(fired).toEqual(['a']);
    now += 20;
    wheel.advance();
    expect(fired).toEqual(['a', 'b']);
    wheel.clear();
  });
});

describe('AimdWindow', () => {
  it('grows by one per window of replies and halves once per round of losses', () => {
    const w = new AimdWindow({ initial: 100, min: 16, max: 200 });
    for (let i = 0; i < 100; i++) w.onReply();
    expect(w.size).toBe(100); // 100 + 100 * (1/100) rounded down just below 101
    for (let i = 0; i < 300; i++) w.onReply();
    expect(w.size).toBeGreaterThanOrEqual(102);
    const before = w.size;
    w.onLoss(10, 20);
    expect(w.size).toBe(Math.floor(before / 2));
    w.onLoss(15, 21); // sent before the decrease: same congestion event
    expect(w.size).toBe(Math.floor(before / 2));
    w.onLoss(25, 30);
    expect(w.size).toBe(Math.floor(before / 4));
    for (let i = 0; i < 10; i++) w.onLoss(100 + i, 100 + i);
    expect(w.size).toBe(16);
  });

  it('after a loss, grows back at full speed to 90% of the loss window, then ten times slower', () => {
    const w = new AimdWindow({ initial: 100, min: 16, max: 1000 });
    w.onLoss(0, 1); // ceiling 90, window 50
    expect(w.size).toBe(50);
    let replies = 0;
    while (w.size < 90) {
      w.onReply();
      replies++;
    }
    expect(replies).toBeLessThan(3500); // ~ (90^2 - 50^2) / 2
    for (let i = 0; i < 900; i++) w.onReply(); // ~10 windows of replies above the ceiling
    expect(w.size).toBeLessThanOrEqual(91);
  });
});
