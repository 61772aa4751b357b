/** Longest piece of caller input quoted in a message, in characters. */
export const QUOTE_MAX_CHARS = 120;

/** `text` cut to `max` characters with a trailing '…' when longer (a 50 MB bad line must not reach stderr). */
export function clip(text: string, max = QUOTE_MAX_CHARS): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/**
 * A message with every quoted piece of input ("...") cut to `QUOTE_MAX_CHARS`, and the whole cut to
 * `maxChars` (default 1000): messages name what is wrong without echoing huge input.
 */
export function clipQuoted(message: string, maxChars = 1000): string {
  // A scan, not a regex: V8's regex engine overflows its stack on a capture of millions of characters.
  let out = '';
  let from = 0;
  for (;;) {
    const open = message.indexOf('"', from);
    const close = open === -1 ? -1 : message.indexOf('"', open + 1);
    if (close === -1) {
      out += clip(message.slice(from), maxChars);
      break;
    }
    out += `${message.slice(from, open)}"${clip(message.slice(open + 1, close))}"`;
    from = close + 1;
    if (out.length > maxChars) break;
  }
  return clip(out, maxChars);
}

/** `"fast"`, `12`, `a list`, `a map`, `null`: a value short enough for a one-line error. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
