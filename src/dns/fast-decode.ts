import { canonicalAddress } from './server-spec.js';
import type { DecodedReply, DnsAnswer } from './types.js';

const RCODES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
];

const TYPE_NAMES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
};

/** Thrown inside the decoder; the caller falls back to dns-packet, which decides what is malformed. */
const UNSUPPORTED = Symbol('unsupported');

/**
 * Decodes a reply whose records are all of the types fleetprobe asks for (plus OPT), by hand: one pass,
 * no intermediate objects. Returns undefined when the reply has anything else (another type or class, an
 * extended rcode, a malformed name): the caller then decodes it with dns-packet. Measured ~4x faster than
 * `dns-packet.decode` + normalisation for a one-answer A reply, which is most of bulk resolution.
 */
export function decodeReplyFast(buf: Buffer): DecodedReply | undefined {
  try {
    return decode(buf);
  } catch (err) {
    if (err === UNSUPPORTED || err instanceof RangeError) return undefined;
    throw err;
  }
}

function decode(buf: Buffer): DecodedReply {
  if (buf.length < 12) throw UNSUPPORTED;
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  const ns = buf.readUInt16BE(8);
  const ar = buf.readUInt16BE(10);
  let off = 12;
  for (let i = 0; i < qd; i++) off = skipName(buf, off) + 4;
  const answers: DnsAnswer[] = [];
  const authorities: DnsAnswer[] = [];
  off = readRecords(buf, off, an, answers);
  off = readRecords(buf, off, ns, authorities);
  for (let i = 0; i < ar; i++) {
    const end = skipName(buf, off);
    const type = buf.readUInt16BE(end);
    const rdlen = buf.readUInt16BE(end + 8);
    // OPT: a non-zero extended rcode is rare enough to leave to dns-packet.
    if (type === 41 && buf[end + 4] !== 0) throw UNSUPPORTED;
    off = end + 10 + rdlen;
  }
  if (off > buf.length) throw UNSUPPORTED;
  return {
    rcode: RCODES[buf[3]! & 0x0f] ?? `RCODE_${buf[3]! & 0x0f}`,
    authoritative: (buf[2]! & 0x04) !== 0,
    answers,
    authorities,
  };
}

function readRecords(buf: Buffer, off: number, count: number, out: DnsAnswer[]): number {
  for (let i = 0; i < count; i++) {
    const [name, end] = readName(buf, off);
    const type = buf.readUInt16BE(end);
    if (buf.readUInt16BE(end + 2) !== 1) throw UNSUPPORTED; // class IN only
    const ttl = buf.readUInt32BE(end + 4);
    const rdlen = buf.readUInt16BE(end + 8);
    const rd = end + 10;
    if (rd + rdlen > buf.length) throw UNSUPPORTED;
    const typeName = TYPE_NAMES[type];
    if (typeName === undefined) throw UNSUPPORTED;
    out.push({ name, type: typeName, ttl, data: readData(buf, type, rd, rdlen) });
    off = rd + rdlen;
  }
  return off;
}

function readData(buf: Buffer, type: number, rd: number, rdlen: number): string {
  switch (type) {
    case 1:
      if (rdlen !== 4) throw UNSUPPORTED;
      return `${buf[rd]}.${buf[rd + 1]}.${buf[rd + 2]}.${buf[rd + 3]}`;
    case 28: {
      if (rdlen !== 16) throw UNSUPPORTED;
      const groups: string[] = [];
      for (let k = 0; k < 16; k += 2) groups.push(buf.readUInt16BE(rd + k).toString(16));
      return canonicalAddress(groups.join(':'));
    }
    case 2:
    case 5:
    case 12:
      return readName(buf, rd)[0];
    case 15:
      return `${buf.readUInt16BE(rd)} ${readName(buf, rd + 2)[0]}`;
    case 16: {
      let text = '';
      for (let k = rd; k < rd + rdlen; ) {
        const len = buf[k]!;
        text += buf.toString('utf8', k + 1, k + 1 + len);
        k += 1 + len;
      }
      return text;
    }
    case 6: {
      const [mname, m] = readName(buf, rd);
      const [rname, r] = readName(buf, m);
      const n = [0, 4, 8, 12, 16].map((k) => buf.readUInt32BE(r + k));
      return `${mname} ${rname} ${n.join(' ')}`;
    }
    default:
      throw UNSUPPORTED;
  }
}

/** Returns [name without trailing dot (`.` for the root), offset after the name in place]. */
function readName(buf: Buffer, off: number): [string, number] {
  let name = '';
  let end = -1;
  let jumps = 0;
  for (;;) {
    const len = buf[off];
    if (len === undefined) throw UNSUPPORTED;
    if (len === 0) {
      if (end < 0) end = off + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (end < 0) end = off + 2;
      if (++jumps > 64) throw UNSUPPORTED;
      off = ((len & 0x3f) << 8) | buf[off + 1]!;
      continue;
    }
    if (len > 63 || off + 1 + len > buf.length) throw UNSUPPORTED;
    const label = buf.toString('latin1', off + 1, off + 1 + len);
    name = name === '' ? label : `${name}.${label}`;
    off += 1 + len;
  }
  return [name === '' ? '.' : name, end];
}

function skipName(buf: Buffer, off: number): number {
  for (;;) {
    const len = buf[off];
    if (len === undefined) throw UNSUPPORTED;
    if (len === 0) return off + 1;
    if ((len & 0xc0) === 0xc0) return off + 2;
    off += 1 + len;
  }
}
