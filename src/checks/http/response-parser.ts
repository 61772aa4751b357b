import { FleetprobeError } from '../../core/errors.js';

/** Why a response could not be parsed; stable, for results and tests. */
export const BAD_RESPONSE_KINDS = [
  'not-http',
  'headers-too-large',
  'bad-status-line',
  'bad-header',
  'folded-header',
  'bad-content-length',
  'bad-chunk',
  'truncated',
] as const;
export type BadResponseKind = (typeof BAD_RESPONSE_KINDS)[number];

/** The peer answered with something that is not a valid HTTP/1.x response. Code `FP_HTTP_BAD_RESPONSE`. */
export class BadResponseError extends FleetprobeError {
  readonly kind: BadResponseKind;
  constructor(kind: BadResponseKind, message: string) {
    super('FP_HTTP_BAD_RESPONSE', message);
    this.kind = kind;
  }
}

/** Default cap on status line + headers (+ trailers), in bytes. */
export const DEFAULT_MAX_HEADER_BYTES = 64 * 1024;

enum State {
  StatusLine,
  Headers,
  BodyLength,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  BodyClose,
  Done,
}

const HTTP_PREFIX = 'HTTP/';
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Header names as servers usually spell them, to their lower case: valid tokens, no regex test or new string. */
const COMMON_NAMES = new Map(
  [
    'Server',
    'Date',
    'Content-Type',
    'Content-Length',
    'Connection',
    'Transfer-Encoding',
    'Location',
    'Cache-Control',
    'Last-Modified',
    'ETag',
    'Accept-Ranges',
    'Vary',
    'Expires',
    'Keep-Alive',
  ].flatMap((name) => [
    [name, name.toLowerCase()],
    [name.toLowerCase(), name.toLowerCase()],
  ]),
);
const DIGITS = /^\d{1,15}$/;
const CHUNK_SIZE = /^([0-9A-Fa-f]{1,15})[ \t]*(?:;.*)?$/;

export interface ResponseParserOptions {
  /** The request was HEAD: the response has no body whatever its headers say. */
  readonly head?: boolean;
  /** Cap on status line + header bytes (and on trailers); default 64 KiB. */
  readonly maxHeaderBytes?: number;
  /** Called with each piece of (de-chunked) body; `buf` is only valid during the call. */
  readonly onBody?: (buf: Buffer, start: number, end: number) => void;
  /**
   * Whether to keep the headers and trailers in `headers` and `trailers` (default true). False: every line is
   * still checked as when kept (same errors), but only what framing needs (Content-Length, Transfer-Encoding)
   * is kept: no string per header name and value, no map entries (a check that reads none of them).
   */
  readonly keepHeaders?: boolean;
}

/**
 * Incremental HTTP/1.0/1.1 response parser for one response on a `Connection: close` exchange.
 *
 * Feed it bytes with `execute(chunk)` as they arrive (any split, even byte by byte) and call `finish()` at
 * EOF. It throws `BadResponseError` on garbage. Handles: status line, headers (names lower-cased, repeats
 * joined with ", "; obsolete line folding is rejected), 1xx interim responses (skipped), HEAD/1xx/204/304
 * without body, `Transfer-Encoding: chunked` (chunk extensions ignored, trailers parsed into `trailers`),
 * `Content-Length` (conflicting values rejected), and close-delimited bodies. Line ends may be CRLF or LF.
 * Not for pipelining or keep-alive: bytes after the end of the response are ignored.
 */
export class ResponseParser {
  statusCode = 0;
  reason = '';
  /** 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion = 1;
  /** Final response headers; names lower-case (empty with `keepHeaders: false`). */
  get headers(): Map<string, string> {
    this.#headers ??= new Map();
    return this.#headers;
  }
  /** Trailers of a chunked body; names lower-case. */
  get trailers(): Map<string, string> {
    this.#trailers ??= new Map();
    return this.#trailers;
  }
  /** True once the final (non-1xx) response's headers are parsed. */
  headersComplete = false;
  /** True once the whole body is read (not set for a close-delimited body until `finish()`). */
  complete = false;
  /** Body bytes delivered so far (after de-chunking). */
  bodyBytes = 0;
  /** Declared Content-Length, or -1. */
  contentLength = -1;
  chunked = false;

  /** Created on first use: most responses have no trailers, and a parser that keeps no headers needs neither. */
  #headers: Map<string, string> | undefined;
  #trailers: Map<string, string> | undefined;
  readonly #head: boolean;
  readonly #maxHeaderBytes: number;
  readonly #onBody: ((buf: Buffer, start: number, end: number) => void) | undefined;
  readonly #keepHeaders: boolean;
  /** The final response's Content-Length and Transfer-Encoding values (repeats joined with ", "), as `headers` has them. */
  #contentLengthValue: string | undefined;
  #transferEncodingValue: string | undefined;
  #state = State.StatusLine;
  #line = '';
  #headerBytes = 0;
  #remaining = 0;
  /** The chunk being parsed and its latin1 text from `#srcBase` on (released after each `execute`). */
  #src: Buffer | undefined;
  #srcText = '';
  #srcBase = 0;

  constructor(options: ResponseParserOptions = {}) {
    this.#head = options.head ?? false;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.#onBody = options.onBody;
    this.#keepHeaders = options.keepHeaders ?? true;
  }

  /**
   * Parses `chunk` up to `len` (a reused read buffer holds more). Returns true when the response is complete
   * (further bytes are ignored). The parser keeps no reference to `chunk` after the call.
   */
  execute(chunk: Buffer, len = chunk.length): boolean {
    let i = 0;
    while (i < len && this.#state !== State.Done) {
      switch (this.#state) {
        case State.BodyLength: {
          const n = Math.min(this.#remaining, len - i);
          this.#deliver(chunk, i, i + n);
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#done();
          break;
        }
        case State.ChunkData: {
          const n = Math.min(this.#remaining, len - i);
          this.#deliver(chunk, i, i + n);
          i += n;
          this.#remaining -= n;
          if (this.#remaining === 0) this.#state = State.ChunkDataEnd;
          break;
        }
        case State.BodyClose:
          this.#deliver(chunk, i, len);
          i = len;
          break;
        default:
          i = this.#readLine(chunk, i, len);
      }
    }
    this.#src = undefined;
    this.#srcText = '';
    return this.#state === State.Done;
  }

  /**
   * The peer closed the connection. Completes a close-delimited body; throws `BadResponseError`
   * (`truncated`) when the response was cut short.
   */
  finish(): void {
    if (this.#state === State.Done) return;
    if (this.#state === State.BodyClose) {
      this.#done();
      return;
    }
    if (this.#state === State.StatusLine && this.#line === '' && this.#headerBytes === 0) {
      throw new BadResponseError('truncated', 'connection closed before any response');
    }
    if (!this.headersComplete)
      throw new BadResponseError('truncated', 'connection closed inside the headers');
    if (this.#state === State.BodyLength) {
      throw new BadResponseError(
        'truncated',
        `body truncated: got ${this.bodyBytes} of ${this.contentLength} bytes`,
      );
    }
    throw new BadResponseError('truncated', 'chunked body truncated');
  }

  #done(): void {
    this.#state = State.Done;
    this.complete = true;
  }

  #deliver(buf: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.bodyBytes += end - start;
    this.#onBody?.(buf, start, end);
  }

  /** Consumes up to and including the next LF before `len`; returns the new offset. */
  #readLine(chunk: Buffer, i: number, len: number): number {
    // One latin1 conversion per chunk, not per line (string index = byte offset in latin1).
    if (this.#src !== chunk) {
      this.#src = chunk;
      this.#srcText = chunk.toString('latin1', i, len);
      this.#srcBase = i;
    }
    const base = this.#srcBase;
    const nlRel = this.#srcText.indexOf('\n', i - base);
    const nl = nlRel === -1 ? -1 : nlRel + base;
    const end = nl === -1 ? len : nl;
    if (this.#state !== State.ChunkSize && this.#state !== State.ChunkDataEnd) {
      this.#headerBytes += end - i + (nl === -1 ? 0 : 1);
      if (this.#headerBytes > this.#maxHeaderBytes) {
        throw new BadResponseError(
          'headers-too-large',
          `headers too large (> ${this.#maxHeaderBytes} bytes)`,
        );
      }
    } else if (this.#line.length + (end - i) > 1024) {
      throw new BadResponseError('bad-chunk', 'chunk size line too long');
    }
    const before = this.#line.length;
    // A whole line in this chunk loses its CR in the one slice (not in a second one after it).
    const crDropped = nl !== -1 && before === 0 && end > i && this.#srcText.charCodeAt(end - 1 - base) === 13;
    const piece = this.#srcText.slice(i - base, (crDropped ? end - 1 : end) - base);
    this.#line = before === 0 ? piece : this.#line + piece;
    // Garbage is recognised on its first bytes, not only at the first line end (an endless garbage stream
    // without newlines must not be read up to the header cap).
    if (this.#state === State.StatusLine && before < HTTP_PREFIX.length) {
      const n = Math.min(this.#line.length, HTTP_PREFIX.length);
      if (this.#line.slice(0, n) !== HTTP_PREFIX.slice(0, n)) {
        throw new BadResponseError('not-http', 'not HTTP');
      }
    }
    if (nl === -1) return len;
    let line = this.#line;
    this.#line = '';
    if (!crDropped && line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    this.#onLine(line);
    return nl + 1;
  }

  #onLine(line: string): void {
    switch (this.#state) {
      case State.StatusLine:
        this.#onStatusLine(line);
        return;
      case State.Headers:
        if (line === '') this.#onHeadersEnd();
        else this.#onHeaderLine(line, this.#keepHeaders ? this.headers : undefined, true);
        return;
      case State.ChunkSize: {
        const m = CHUNK_SIZE.exec(line);
        if (!m) throw new BadResponseError('bad-chunk', 'bad chunk size line');
        this.#remaining = Number.parseInt(m[1]!, 16);
        this.#state = this.#remaining === 0 ? State.Trailers : State.ChunkData;
        return;
      }
      case State.ChunkDataEnd:
        if (line !== '') throw new BadResponseError('bad-chunk', 'missing CRLF after chunk data');
        this.#state = State.ChunkSize;
        return;
      case State.Trailers:
        if (line === '') this.#done();
        else this.#onHeaderLine(line, this.#keepHeaders ? this.trailers : undefined, false);
        return;
      default:
        return;
    }
  }

  /** `HTTP/1.<0|1> <3 digits>[ <reason>]`, the reason without CR or LF (by hand: no match array per response). */
  #onStatusLine(line: string): void {
    const status = statusCodeOf(line);
    if (status < 0) {
      throw line.startsWith(HTTP_PREFIX)
        ? new BadResponseError('bad-status-line', 'bad status line')
        : new BadResponseError('not-http', 'not HTTP');
    }
    this.minorVersion = line.charCodeAt(7) - 48;
    this.statusCode = status;
    this.reason = line.length > 13 ? line.slice(13) : '';
    if (this.#keepHeaders) this.headers.clear();
    this.#contentLengthValue = undefined;
    this.#transferEncodingValue = undefined;
    this.#state = State.Headers;
  }

  /**
   * One header (or trailer) line: kept in `into` when headers are kept; a final response's Content-Length and
   * Transfer-Encoding (`framing`) are noted either way.
   */
  #onHeaderLine(line: string, into: Map<string, string> | undefined, framing: boolean): void {
    const c = line.charCodeAt(0);
    if (c === 32 || c === 9) throw new BadResponseError('folded-header', 'folded header line');
    const colon = line.indexOf(':');
    if (colon <= 0) throw new BadResponseError('bad-header', 'header line without a name');
    if (into === undefined) {
      // Not kept: the name is checked in place, and only the framing headers' values are sliced.
      if (!isToken(line, colon)) throw new BadResponseError('bad-header', 'bad header name');
      if (!framing) return;
      if (colon === CONTENT_LENGTH.length && nameIs(line, CONTENT_LENGTH)) {
        const value = trimmedSlice(line, colon + 1);
        this.#contentLengthValue = joinRepeated(this.#contentLengthValue, value);
      } else if (colon === TRANSFER_ENCODING.length && nameIs(line, TRANSFER_ENCODING)) {
        const value = trimmedSlice(line, colon + 1);
        this.#transferEncodingValue = joinRepeated(this.#transferEncodingValue, value);
      }
      return;
    }
    const name = line.slice(0, colon);
    let key = COMMON_NAMES.get(name);
    if (key === undefined) {
      if (!isToken(line, colon)) throw new BadResponseError('bad-header', 'bad header name');
      key = name.toLowerCase();
    }
    const value = trimmedSlice(line, colon + 1);
    const joined = joinRepeated(into.get(key), value);
    into.set(key, joined);
    if (!framing) return;
    if (key === CONTENT_LENGTH) this.#contentLengthValue = joined;
    else if (key === TRANSFER_ENCODING) this.#transferEncodingValue = joined;
  }

  #onHeadersEnd(): void {
    const code = this.statusCode;
    if (code >= 100 && code < 200 && code !== 101) {
      // Interim response (100 Continue, 103 Early Hints): skip it, the final one follows.
      this.#state = State.StatusLine;
      return;
    }
    this.headersComplete = true;
    const te = this.#transferEncodingValue;
    const cl = this.#contentLengthValue;
    if (cl !== undefined && DIGITS.test(cl)) {
      this.contentLength = Number(cl); // the usual single value: no split
    } else if (cl !== undefined) {
      const values = cl.split(',').map((v) => v.trim());
      const first = values[0]!;
      if (!DIGITS.test(first) || values.some((v) => v !== first)) {
        throw new BadResponseError('bad-content-length', 'bad Content-Length');
      }
      this.contentLength = Number(first);
    }
    if (this.#head || code === 101 || code === 204 || code === 304) {
      this.#done();
      return;
    }
    if (te !== undefined) {
      const codings = te.toLowerCase().split(',');
      this.chunked = codings[codings.length - 1]!.trim() === 'chunked';
      // A Transfer-Encoding overrides Content-Length (RFC 9112 6.3); not ending in chunked: read to close.
      this.contentLength = -1;
      this.#state = this.chunked ? State.ChunkSize : State.BodyClose;
      return;
    }
    if (this.contentLength >= 0) {
      this.#remaining = this.contentLength;
      if (this.#remaining === 0) this.#done();
      else this.#state = State.BodyLength;
      return;
    }
    this.#state = State.BodyClose;
  }
}

/** The status code of a status line (`HTTP/1.0` or `HTTP/1.1`, 3 digits, then nothing or a space and a reason), or -1. */
function statusCodeOf(line: string): number {
  if (line.length < 12 || !line.startsWith('HTTP/1.')) return -1;
  const minor = line.charCodeAt(7);
  if ((minor !== 48 && minor !== 49) || line.charCodeAt(8) !== 32) return -1;
  let code = 0;
  for (let k = 9; k < 12; k++) {
    const d = line.charCodeAt(k) - 48;
    if (d < 0 || d > 9) return -1;
    code = code * 10 + d;
  }
  if (line.length === 12) return code;
  if (line.charCodeAt(12) !== 32) return -1;
  // A reason is any text but a line end (as a regex `.` would).
  for (let k = 13; k < line.length; k++) {
    const c = line.charCodeAt(k);
    if (c === 10 || c === 13) return -1;
  }
  return code;
}

/** A header's value after a repeat of the same name: the values joined with ", " (RFC 9110 5.3). */
function joinRepeated(prev: string | undefined, value: string): string {
  return prev === undefined ? value : `${prev}, ${value}`;
}

const CONTENT_LENGTH = 'content-length';
const TRANSFER_ENCODING = 'transfer-encoding';

/** Whether `line[0, end)` is a token (`TOKEN`, the header name rule), read in place. */
function isToken(line: string, end: number): boolean {
  for (let k = 0; k < end; k++) {
    const c = line.charCodeAt(k);
    if (c >= 0x80 || TOKEN_CHARS[c] !== 1) return false;
  }
  return true;
}

/** For each ASCII code, 1 when `TOKEN` allows it. */
const TOKEN_CHARS = (() => {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) table[c] = TOKEN.test(String.fromCharCode(c)) ? 1 : 0;
  return table;
})();

/** Whether `line` starts with `lower` (a lower-case ASCII name), compared without regard to ASCII case. */
function nameIs(line: string, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    let c = line.charCodeAt(k);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/** Whether `c` is what `String.prototype.trim` strips, among the latin1 characters a header line holds. */
function isTrimmed(c: number): boolean {
  return (c >= 9 && c <= 13) || c === 32 || c === 160;
}

/** `line.slice(from).trim()` in one slice. */
function trimmedSlice(line: string, from: number): string {
  let start = from;
  let end = line.length;
  while (start < end && isTrimmed(line.charCodeAt(start))) start++;
  while (end > start && isTrimmed(line.charCodeAt(end - 1))) end--;
  return line.slice(start, end);
}
