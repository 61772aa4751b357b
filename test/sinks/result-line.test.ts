import { describe, expect, it } from 'vitest';
import type { Result } from '../../src/engine/result.js';
import { csvFormat, jsonlFormat } from '../../src/sinks/formats.js';
import { decodeResultLines, encodeResultLines, linesBatch, resultLine } from '../../src/sinks/result-line.js';

/**
 * Results crossing from a thread as JSONL text (issue 11): the line main writes is byte for byte the line
 * JSON.stringify makes of the result, and the object main gets is the one its line describes.
 */
function result(over: Partial<Result>): Result {
  return {
    run: 'r-1',
    target: '127.0.0.1',
    port: 53,
    name: null,
    labels: {},
    check: 'dns',
    status: 'pass',
    durationMs: 1.25,
    startedAt: '2026-11-30T16:28:50.563Z',
    attempts: 1,
    message: 'ok',
    reason: 'ok',
    data: {},
    ...over,
  };
}

const SHAPES: Result[] = [
  // dns, as the check makes it
  result({
    target: 'n1000.bench.test',
    name: 'n1000.bench.test',
    message: 'NOERROR A 127.64.3.232',
    reason: 'NOERROR A <answers>',
    data: {
      name: 'n1000.bench.test',
      type: 'A',
      server: '127.88.0.54:53530',
      rcode: 'NOERROR',
      answers: [{ name: 'n1000.bench.test', type: 'A', ttl: 300, data: '127.64.3.232' }],
      authorityCount: 0,
      rttMs: 38.78,
      attempts: 1,
      tcp: false,
    },
  }),
  // tcp refused, no reason (an older producer), labels
  result({
    check: 'tcp',
    status: 'error',
    port: 9,
    labels: { region: 'eu', role: 'edge' },
    message: 'connect ECONNREFUSED 127.0.0.1:9',
    reason: undefined,
    data: { code: 'ECONNREFUSED' },
  }),
  // http with headers, a body excerpt full of escapes and unicode, nulls and nested arrays
  result({
    check: 'http',
    status: 'fail',
    port: 8443,
    name: 'höst.example',
    labels: { 'ünï "code"': 'a\\b\n\t' },
    message: 'expected 200, got 503 — “service unavailable” 🚒',
    data: {
      status: 503,
      headers: { 'content-type': 'text/html; charset=utf-8', 'x-empty': '' },
      body: '<p>\u0000\u0001\u001f\u007f \u2028\u2029 \ud800 lone \udfff surrogates, "quotes" \\ </p>',
      cert: null,
      redirects: [],
      nested: [[1, [2, [3, null]]], { a: { b: { c: 'd' } } }],
      skipped: undefined,
      numbers: [0, -0, 1e21, 1e-7, 123456789.12345679, Number.MAX_SAFE_INTEGER, -1.5],
      notJson: [Number.NaN, Number.POSITIVE_INFINITY],
      '7': 'integer-like key',
    },
  }),
  result({ status: 'timeout', durationMs: 5000, message: 'timeout after 5000 ms', data: {} }),
  result({ target: '2001:db8::1', port: null, status: 'cancelled', message: 'cancelled', reason: '' }),
];

describe('result lines', () => {
  it('round-trips every result shape: the same line, and the object the line describes', () => {
    const lines = encodeResultLines(SHAPES);
    expect(lines.ends).toHaveLength(SHAPES.length);
    const decoded = decodeResultLines(structuredClone(lines));
    expect(decoded).toHaveLength(SHAPES.length);
    for (const [i, original] of SHAPES.entries()) {
      const expected = `${JSON.stringify(original)}\n`;
      expect(resultLine(decoded[i]!)).toBe(expected);
      expect(jsonlFormat.line(decoded[i]!)).toBe(expected);
      expect(decoded[i]).toEqual(JSON.parse(expected));
      // Other formats read the decoded object.
      expect(csvFormat.line(decoded[i]!)).toBe(csvFormat.line(JSON.parse(expected) as Result));
    }
    // The lines concatenated are the JSONL text of the batch.
    expect(decoded.map(resultLine).join('')).toBe(SHAPES.map((r) => `${JSON.stringify(r)}\n`).join(''));
  });

  it('keeps the line off the object: not in its JSON, keys or copies', () => {
    const [decoded] = decodeResultLines(encodeResultLines([SHAPES[0]!]));
    expect(Object.keys(decoded!)).toEqual(Object.keys(JSON.parse(JSON.stringify(SHAPES[0]))));
    const copy: Result = { ...decoded!, status: 'fail' };
    expect(resultLine(copy)).toBe(`${JSON.stringify(copy)}\n`);
    expect(resultLine(copy)).toContain('"status":"fail"');
  });

  it('encodes the lines of a batch into a buffer given back when they fit, else into a new one', () => {
    const batch = SHAPES.slice(0, 2);
    const text = batch.map(resultLine).join('');
    const spare = new ArrayBuffer(text.length + 10);
    const reused = linesBatch(batch, true, spare).lines;
    expect(reused.buffer).toBe(spare);
    expect(new TextDecoder().decode(reused)).toBe(text);
    const small = new ArrayBuffer(10);
    const fresh = linesBatch(batch, true, small).lines;
    expect(fresh.buffer).not.toBe(small);
    expect(new TextDecoder().decode(fresh)).toBe(text);
    // Not ASCII: more bytes than characters; a buffer as long as the text in characters is too short.
    const wide = [result({ message: 'ü'.repeat(50) })];
    const wideText = resultLine(wide[0]!);
    const lines = linesBatch(wide, true, new ArrayBuffer(wideText.length)).lines;
    expect(new TextDecoder().decode(lines)).toBe(wideText);
  });

  it('gives the main thread the same line as bytes, for made and for decoded results', () => {
    const decoded = decodeResultLines(encodeResultLines(SHAPES));
    const wide = result({ message: 'ü “quoted” \u0000', data: { body: '\ud800' } });
    for (const r of [...SHAPES, ...decoded, wide]) {
      const bytes = jsonlFormat.bytes!(r);
      expect(new TextDecoder().decode(bytes)).toBe(`${JSON.stringify(r)}\n`);
    }
    // A view of one reused buffer: the next call writes over it.
    const first = jsonlFormat.bytes!(SHAPES[0]!);
    const firstText = new TextDecoder().decode(first);
    jsonlFormat.bytes!(SHAPES[1]!);
    expect(new TextDecoder().decode(first)).not.toBe(firstText);
  });

  it('leaves no half line behind a result JSON cannot write, as a row or in a batch', () => {
    const bad = result({ message: 'before the BigInt', data: { n: 1n as unknown as number } });
    const good = SHAPES[0]!;
    const line = `${JSON.stringify(good)}\n`;
    expect(() => jsonlFormat.bytes!(bad)).toThrow(TypeError);
    expect(new TextDecoder().decode(jsonlFormat.bytes!(good))).toBe(line);
    expect(() => linesBatch([good, bad], true, undefined)).toThrow(TypeError);
    expect(new TextDecoder().decode(linesBatch([good], true, undefined).lines)).toBe(line);
  });

  it('encodes an empty batch', () => {
    const lines = encodeResultLines([]);
    expect(lines).toEqual({ json: '[]', ends: [] });
    expect(decodeResultLines(lines)).toEqual([]);
  });
});
