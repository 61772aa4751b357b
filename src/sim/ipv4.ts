/** Parses a dotted-quad IPv4 literal (also `::ffff:a.b.c.d`) to an unsigned 32-bit integer, or -1. */
export function ipv4ToInt(address: string): number {
  let s = address;
  if (s.startsWith('::ffff:')) s = s.slice(7);
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3 || (digits > 0 && part === 0)) return -1; // no leading zeros, at most 3 digits
      part = part * 10 + (c - 48);
      if (part > 255) return -1;
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return value * 256 + part;
}

/** Formats an unsigned 32-bit integer as a dotted-quad IPv4 address. */
export function intToIpv4(value: number): string {
  return `${(value >>> 24) & 255}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}`;
}
