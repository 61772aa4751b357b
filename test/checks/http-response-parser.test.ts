import { describe, expect, it } from 'vitest';
import { BadResponseError, ResponseParser } from '../../src/checks/http/response-parser.js';

interface Parsed {
  parser: ResponseParser;
  body: string;
  doneAt: number;
}

/** Feeds `raw` in pieces of `step` bytes (1 = byte by byte); calls finish() when `eof`. */
function parse(
  raw: string,
  step: number,
  opts: { head?: boolean; eof?: boolean; maxHeaderBytes?: number } = {},
) {
  const bytes = Buffer.from(raw, 'latin1');
  const parts: Buffer[] = [];
  const parser = new ResponseParser({
    head: opts.head,
    maxHeaderBytes: opts.maxHeaderBytes,
    onBody: (buf, s, e) => parts.push(Buffer.from(buf.subarray(s, e))),
  });
  let doneAt = -1;
  for (let i = 0; i < bytes.length; i += step) {
    if (parser.execute(bytes.subarray(i, i + step)) && doneAt < 0) doneAt = Math.min(i + step, bytes.length);
  }
  if (opts.eof) parser.finish();
  return { parser, body: Buffer.concat(parts).toString('latin1'), doneAt } satisfies Parsed;
}

function parseError(raw: string, step = 1, eof = true): BadResponseError {
  try {
    parse(raw, step, { eof });
  } catch (err) {
    expect(err).toBeInstanceOf(BadResponseError);
    return err as BadResponseError;
  }
  throw new Error('expected a BadResponseError');
}

const STEPS = [1, 2, 3, 7, 1000];

describe('ResponseParser', () => {
  it.each(STEPS)('parses a Content-Length response split every %i bytes', (step) => {
    const raw =
      'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhelloEXTRA';
    const { parser, body, doneAt } = parse(raw, step);
    expect(parser.statusCode).toBe(200);
    expect(parser.reason).toBe('OK');
    expect(parser.headers.get('content-type')).toBe('text/plain');
    expect(parser.headers.get('x-a')).toBe('1, 2');
    expect(body).toBe('hello');
    expect(parser.complete).toBe(true);
    expect(doneAt).toBeGreaterThan(0);
    expect(parser.trailers.size).toBe(0);
  });

  it.each(STEPS)('decodes a chunked body with extensions and trailers, split every %i bytes', (step) => {
    const raw =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '4;ext=1\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-Checksum: abc\r\n\r\n';
    const { parser, body } = parse(raw, step);
    expect(body).toBe('Wikipedia in \r\n\r\nchunks.');
    expect(parser.chunked).toBe(true);
    expect(parser.trailers.get('x-checksum')).toBe('abc');
    expect(parser.complete).toBe(true);
  });

  it.each(STEPS)('reads a close-delimited body to EOF (step %i)', (step) => {
    const { parser, body } = parse('HTTP/1.0 200 OK\nServer: x\n\nall of it', step, { eof: true });
    expect(parser.minorVersion).toBe(0);
    expect(body).toBe('all of it');
    expect(parser.complete).toBe(true);
  });

  it('skips 1xx interim responses', () => {
    const raw =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok';
    const { parser, body } = parse(raw, 1);
    expect(parser.statusCode).toBe(201);
    expect(parser.headers.has('link')).toBe(false);
    expect(body).toBe('ok');
  });

  it.each([
    ['HEAD', 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n', true],
    ['204', 'HTTP/1.1 204 No Content\r\nContent-Length: 100\r\n\r\n', false],
    ['304', 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n', false],
  ])('has no body for %s', (_, raw, head) => {
    const { parser, body } = parse(raw as string, 1, { head: head as boolean });
    expect(parser.complete).toBe(true);
    expect(body).toBe('');
  });

  it('lets Transfer-Encoding override Content-Length', () => {
    const { body } = parse(
      'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n',
      2,
    );
    expect(body).toBe('abcde');
  });

  it('accepts an empty reason phrase', () => {
    expect(parse('HTTP/1.1 404\r\nContent-Length: 0\r\n\r\n', 1).parser.statusCode).toBe(404);
  });

  it.each([1, 64])(
    'reads status lines and header values as the HTTP/1.x grammar and trim() do (step %i)',
    (step) => {
      const ok = (raw: string) => parse(`${raw}Content-Length: 0\r\n\r\n`, step).parser;
      expect(ok('HTTP/1.0 204 \r\n')).toMatchObject({ statusCode: 204, reason: '', minorVersion: 0 });
      expect(ok('HTTP/1.1 503 Service  Unavailable\r\n').reason).toBe('Service  Unavailable');
      const headers = ok('HTTP/1.1 200 OK\r\nServer:\t nginx \xa0\r\nSERVER: b\r\nx-Y:\r\n').headers;
      expect(headers.get('server')).toBe('nginx, b');
      expect(headers.get('x-y')).toBe('');
    },
  );

  it.each([
    'HTTP/1.1 200 O\rK\r\n\r\n',
    'HTTP/1.1 200 OK\r\r\n\r\n', // one CR ends the line, the other is in the reason
    'HTTP/1.1 20x OK\r\n\r\n',
    'HTTP/1.1 200OK\r\n\r\n',
    'HTTP/1.2 200 OK\r\n\r\n',
  ])('rejects the status line %j', (raw) => {
    expect(parseError(raw).kind).toBe('bad-status-line');
  });

  it('rejects garbage on its first bytes, before any newline', () => {
    const parser = new ResponseParser();
    expect(() => parser.execute(Buffer.from('SSH-2.0-OpenSSH'))).toThrow(BadResponseError);
    expect(parseError('xyz').kind).toBe('not-http');
    expect(parseError('\u0000\u0001\u0002garbage\r\n').kind).toBe('not-http');
  });

  it.each([
    ['bad-status-line', 'HTTP/1.1 2000 OK\r\n\r\n'],
    ['bad-status-line', 'HTTP/2.0 200 OK\r\n\r\n'],
    ['folded-header', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\n\r\n'],
    ['bad-header', 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'],
    ['bad-header', 'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n'],
    ['bad-content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n'],
    ['bad-content-length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['bad-chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['bad-chunk', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n'],
    ['truncated', 'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'],
    ['truncated', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab'],
    ['truncated', 'HTTP/1.1 200 OK\r\nX-Half: '],
    ['truncated', ''],
  ])('rejects %s: %j', (kind, raw) => {
    const err = parseError(raw);
    expect(err.kind).toBe(kind);
    expect(err.code).toBe('FP_HTTP_BAD_RESPONSE');
  });

  it('caps the header size', () => {
    const huge = `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`;
    for (const step of [1, 4096, huge.length]) {
      expect(() => parse(huge, step)).toThrow(expect.objectContaining({ kind: 'headers-too-large' }));
    }
    expect(() => parse('HTTP/1.1 200 OK\r\nX: 12345\r\n\r\n', 1, { maxHeaderBytes: 20 })).toThrow(
      expect.objectContaining({ kind: 'headers-too-large' }),
    );
  });

  it('caps endless headers that never end a line', () => {
    const parser = new ResponseParser({ maxHeaderBytes: 1024 });
    parser.execute(Buffer.from('HTTP/1.1 200 OK\r\nX: '));
    const filler = Buffer.alloc(100, 'a');
    expect(() => {
      for (let i = 0; i < 20; i++) parser.execute(filler);
    }).toThrow(expect.objectContaining({ kind: 'headers-too-large' }));
  });
});

/** What a parser decided about a response: everything but the kept headers. */
function outcomeOf(raw: string, step: number, keepHeaders: boolean, head = false) {
  const bytes = Buffer.from(raw, 'latin1');
  const parts: Buffer[] = [];
  const parser = new ResponseParser({
    head,
    keepHeaders,
    onBody: (buf, s, e) => parts.push(Buffer.from(buf.subarray(s, e))),
  });
  try {
    let doneAt = -1;
    for (let i = 0; i < bytes.length; i += step) {
      if (parser.execute(bytes.subarray(i, i + step)) && doneAt < 0) doneAt = i;
    }
    parser.finish();
    const { statusCode, reason, minorVersion, headersComplete, complete, bodyBytes, contentLength, chunked } =
      parser;
    const body = Buffer.concat(parts).toString('latin1');
    return {
      statusCode,
      reason,
      minorVersion,
      headersComplete,
      complete,
      bodyBytes,
      contentLength,
      chunked,
      body,
      doneAt,
    };
  } catch (err) {
    expect(err).toBeInstanceOf(BadResponseError);
    return { error: (err as BadResponseError).kind, message: (err as BadResponseError).message };
  }
}

describe('ResponseParser without kept headers (the http check)', () => {
  const RESPONSES = [
    'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 02:39:32 GMT\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n',
    'HTTP/1.1 200 OK\r\ncontent-length: 5\r\nCONTENT-LENGTH: 5\r\n\r\nhelloEXTRA',
    'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello',
    'HTTP/1.1 200 OK\r\nContent-Length:  7 \r\n\r\nseven..',
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n2\r\nab\r\n0\r\nX-T: 1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nto the end',
    'HTTP/1.1 100 Continue\r\nContent-Length: 9\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok',
    'HTTP/1.1 103 Early Hints\r\nTransfer-Encoding: chunked\r\n\r\nHTTP/1.1 200 OK\r\n\r\nclose-delimited',
    'HTTP/1.0 204 \r\nContent-Length: 0\r\n\r\n',
    'HTTP/1.1 200 OK\nServer:\t nginx \xa0\nSERVER: b\nx-Y:\nContent-Length: 1\n\nz',
    'HTTP/1.1 200 OK\r\nX-A: 1\r\n  continued\r\n\r\n',
    'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n',
    'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nBad\xe9: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\n: x\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Lengthx: 4\r\nTransfer-Encodinx: chunked\r\n\r\nrest',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nBad Trailer: 1\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc',
    'HTTP/1.1 200 OK\r\nX-Half: ',
    'SSH-2.0-OpenSSH_9.2\r\n',
    '',
  ];

  it.each(RESPONSES.flatMap((raw) => [1, 3, 1000].map((step) => [step, raw] as const)))(
    'decides as a parser that keeps them (step %i): %j',
    (step, raw) => {
      expect(outcomeOf(raw, step, false)).toEqual(outcomeOf(raw, step, true));
      expect(outcomeOf(raw, step, false, true)).toEqual(outcomeOf(raw, step, true, true));
    },
  );

  it('keeps no headers or trailers', () => {
    const parser = new ResponseParser({ keepHeaders: false });
    parser.execute(
      Buffer.from('HTTP/1.1 200 OK\r\nServer: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n\r\n'),
    );
    expect(parser.complete).toBe(true);
    expect(parser.chunked).toBe(true);
    expect(parser.headers.size).toBe(0);
    expect(parser.trailers.size).toBe(0);
  });
});
