import { describe, expect, it } from 'vitest';
import type { Result } from '../../src/engine/result.js';
import { JsonBytes } from '../../src/sinks/json-bytes.js';
import { decodeResultLines, encodeResultLines, linesBatch } from '../../src/sinks/result-line.js';

/**
 * A thread's JSONL bytes (issue 11) are written by JsonBytes, not JSON.stringify: they must be byte for byte
 * the UTF-8 of `JSON.stringify(value) + '\n'` for every value, plain or not.
 */
function expectSameBytes(values: readonly unknown[]): void {
  const w = new JsonBytes(16); // tiny: every value grows the buffer
  for (const v of values) w.line(v);
  const expected = Buffer.from(values.map((v) => `${JSON.stringify(v)}\n`).join(''), 'utf8');
  expect(Buffer.from(w.take()).equals(expected)).toBe(true);
}

/** A deterministic pseudo-random sequence (xorshift32). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const CHARS = [
  'a',
  'Z',
  '0',
  ' ',
  '"',
  '\\',
  '/',
  '\n',
  '\t',
  '\u0000',
  '\u001f',
  '\u007f',
  'é',
  '€',
  '\u2028',
  '🚒',
  '\ud800',
  '\udfff',
];

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 6 : 9));
  switch (pick) {
    case 0:
      return Math.round(next() * 1e6) / 100; // hundredths, as durations are rounded
    case 1:
      return [0, -0, 1, -1, 1e21, 1e-7, 2 ** 31, -(2 ** 31), 0.1 + 0.2, Number.NaN, -Infinity][
        Math.floor(next() * 11)
      ];
    case 2:
      return (next() - 0.5) * 10 ** Math.floor(next() * 30 - 10);
    case 3: {
      let s = '';
      const n = Math.floor(next() * 12);
      for (let i = 0; i < n; i++) s += next() < 0.7 ? 'x' : CHARS[Math.floor(next() * CHARS.length)];
      return s;
    }
    case 4:
      return [true, false, null, undefined][Math.floor(next() * 4)];
    case 5:
      return Math.floor(next() * 2 ** 32) - 2 ** 31;
    case 6:
    case 7: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(next() * 5);
      for (let i = 0; i < n; i++) {
        const key = next() < 0.2 ? String(Math.floor(next() * 20)) : (randomValue(next, 9) as string);
        o[typeof key === 'string' ? key : `k${i}`] = randomValue(next, depth + 1);
      }
      return o;
    }
    default: {
      const n = Math.floor(next() * 5);
      return Array.from({ length: n }, () => randomValue(next, depth + 1));
    }
  }
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('JsonBytes', () => {
  it('writes what JSON.stringify writes for results of every check', () => {
    const result = (over: Partial<Result>): Result => ({
      run: '7f1c3c1e-5b7a-4d7e-9d61-3f0f1b8c2a11',
      target: 'n1000.bench.test',
      port: 53,
      name: 'n1000.bench.test',
      labels: {},
      check: 'dns',
      status: 'pass',
      durationMs: 20.94,
      startedAt: '2026-11-30T22:07:08.193Z',
      attempts: 1,
      message: 'NOERROR A 127.64.3.232',
      reason: 'NOERROR A <answers>',
      data: {
        name: 'n1000.bench.test',
        type: 'A',
        server: '127.0.0.53:53',
        rcode: 'NOERROR',
        answers: [{ name: 'n1000.bench.test', type: 'A', ttl: 300, data: '127.64.3.232' }],
        authorityCount: 0,
        rttMs: 3.4,
        attempts: 1,
        tcp: false,
      },
      ...over,
    });
    expectSameBytes([
      result({}),
      result({ reason: undefined, labels: { region: 'eu', '10': 'ten', '2': 'two' }, port: null }),
      result({ name: 'höst.example', message: 'expected 200, got 503 — “unavailable” 🚒', durationMs: 0.05 }),
      result({ status: 'timeout', durationMs: 5000.01, data: { skipped: undefined, f: () => 1 } }),
      result({
        data: { body: '<p>\u0000 \u2028 \ud800 lone "quotes" \\ </p>', nested: [[1, [2, [3, null]]]] },
      }),
    ]);
  });

  it('writes what JSON.stringify writes for random plain data', () => {
    const next = random(0x2545f491);
    const values = Array.from({ length: 3000 }, () => ({ v: randomValue(next, 0) }));
    expectSameBytes(values);
  });

  it('writes numbers as String() does: integers, hundredths and the rest', () => {
    const numbers: number[] = [];
    for (let k = 0; k <= 200_000; k++) numbers.push(k / 100, k, -k / 100);
    const next = random(12345);
    for (let i = 0; i < 50_000; i++) {
      numbers.push(Math.round(next() * 2 ** 31) / 100, next() * 1e6, Math.round(next() * 1e4) / 1000);
    }
    numbers.push(2 ** 31 - 1, 2 ** 31, 2 ** 31 / 100, (2 ** 31 - 1) / 100, 2 ** 53, 1e21, 5e-7, -0);
    expectSameBytes([numbers]);
  });

  it('leaves what is not plain data to JSON.stringify: toJSON, classes, null prototypes, deep nesting', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare.b = 1;
    bare.a = [new Date(0)];
    let deep: unknown = 'bottom';
    for (let i = 0; i < 100; i++) deep = { d: [deep] };
    const withToJson = { toJSON: (key: string) => `key:${key}` };
    const arrayWithToJson = Object.assign([1, 2], { toJSON: () => 'array' });
    const withGetter = {
      get computed() {
        return 'got';
      },
    };
    expectSameBytes([
      { at: new Date(1_700_000_000_000) },
      { p: new Point(1, 2), m: new Map([[1, 2]]), s: new Set([1]) },
      bare,
      deep,
      { withToJson, arrayWithToJson },
      withGetter,
      [undefined, () => 1, Symbol('s')],
      { [Symbol('hidden')]: 1, shown: 2 },
      Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false }),
      { boxed: [new String('s'), new Number(1), new Boolean(false)] },
    ]);
  });

  it('throws what JSON.stringify throws, and keeps nothing of the failed line', () => {
    const cycle: Record<string, unknown> = { a: 1 };
    cycle.self = cycle;
    const w = new JsonBytes();
    w.line({ ok: 1 });
    expect(() => w.line({ cycle })).toThrow(TypeError);
    expect(() => w.line({ big: 1n })).toThrow(TypeError);
    w.discard();
    w.line({ ok: 2 });
    expect(Buffer.from(w.take()).toString()).toBe('{"ok":2}\n');
  });

  it('writes text as UTF-8 and hands over a buffer of its own', () => {
    const w = new JsonBytes(4);
    w.text('ü 🚒\n');
    w.line('x');
    const bytes = w.take();
    expect(Buffer.from(bytes).toString()).toBe('ü 🚒\n"x"\n');
    expect(bytes.byteOffset).toBe(0);
    w.text('later');
    expect(Buffer.from(bytes).toString()).toBe('ü 🚒\n"x"\n'); // not the writer's own buffer
    expect(Buffer.from(w.take()).toString()).toBe('later');
    expect(w.take()).toHaveLength(0);
  });

  it('takes into a spare buffer when the bytes fit, else into a new one', () => {
    const w = new JsonBytes();
    const spare = new ArrayBuffer(8);
    w.text('fits');
    const fits = w.take(spare);
    expect(fits.buffer).toBe(spare);
    expect(Buffer.from(fits).toString()).toBe('fits');
    w.text('does not fit');
    const grown = w.take(spare);
    expect(grown.buffer).not.toBe(spare);
    expect(Buffer.from(grown).toString()).toBe('does not fit');
  });
});

describe('linesBatch', () => {
  it('is the JSONL text of its results, lines already made included, and leaves nothing behind a failure', () => {
    const results = [
      { run: 'r', target: 't', status: 'pass', message: 'ok', data: { n: 1.5 } },
      { run: 'r', target: 'ü', status: 'fail', message: 'no', data: {} },
    ] as unknown as Result[];
    const [fromThread] = decodeResultLines(encodeResultLines(results));
    const batch = [...results, fromThread!];
    const expected = batch.map((r) => `${JSON.stringify(r)}\n`).join('');
    expect(Buffer.from(linesBatch(batch, true).lines).toString()).toBe(expected);
    expect(linesBatch(batch, false).lines).toHaveLength(0);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    const bad = { run: 'r', data: cycle } as unknown as Result;
    expect(() => linesBatch([results[0]!, bad], true)).toThrow(TypeError);
    expect(Buffer.from(linesBatch(results, true).lines).toString()).toBe(
      results.map((r) => `${JSON.stringify(r)}\n`).join(''),
    );
  });
});
