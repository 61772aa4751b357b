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

let intlFormat: Intl.NumberFormat | undefined;

/**
 * `n` as `Intl.NumberFormat('en-US')` formats it (`20,000`; `1,170.457`). Integers are grouped here: the first
 * `Intl.NumberFormat` of a process costs ~13 ms of CPU (ICU's set-up), a tenth of `run`'s start-up beyond
 * node's own. Anything else goes to Intl, created on first use.
 */
export function formatNumber(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) {
    intlFormat ??= new Intl.NumberFormat('en-US');
    return intlFormat.format(n);
  }
  const digits = String(Math.abs(n));
  let out = digits.slice(0, ((digits.length - 1) % 3) + 1);
  for (let i = out.length; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return n < 0 ? `-${out}` : out;
}
