import type { FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

/** Bytes read per call: a chunk of lines is parsed (and its targets handed on) as one batch. */
export const CHUNK_BYTES = 256 * 1024;

/**
 * Reads a file's text as lines, one array per chunk read (never the whole file in memory). Lines end at
 * `\n`, `\r\n` or a lone `\r`, as `node:readline` with `crlfDelay: Infinity` splits them; the last line needs
 * no line end, and a file ending with a line end has no empty last line. UTF-8, invalid bytes become U+FFFD.
 * Reading in large chunks and splitting here costs a fraction of readline's events and strings per line.
 */
export async function* readLineChunks(handle: FileHandle): AsyncGenerator<string[], void, undefined> {
  const decoder = new StringDecoder('utf8');
  const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let carry = ''; // the unfinished last line of the previous chunk
  let skipLf = false; // the previous chunk ended with `\r`: a `\n` starting this one belongs to it
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, null);
    if (bytesRead === 0) break;
    let text = decoder.write(buffer.subarray(0, bytesRead));
    if (text === '') continue;
    if (skipLf && text.charCodeAt(0) === 10) text = text.slice(1);
    skipLf = false;
    const lines: string[] = [];
    let start = 0;
    let cr = text.indexOf('\r');
    for (;;) {
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      const lf = text.indexOf('\n', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        next = lf === cr + 1 ? cr + 2 : cr + 1;
        if (next === text.length) skipLf = true;
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else break;
      lines.push(start === 0 ? carry + text.slice(0, end) : text.slice(start, end));
      if (start === 0) carry = '';
      start = next;
    }
    if (start === 0) carry += text;
    else carry = text.slice(start);
    if (lines.length > 0) yield lines;
  }
  const rest = carry + decoder.end();
  if (rest !== '') yield [rest];
}
