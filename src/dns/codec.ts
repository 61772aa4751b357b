import packet from 'dns-packet';
import { DnsQueryError } from './errors.js';
import { decodeReplyFast } from './fast-decode.js';
import type { DecodedReply, DnsAnswer } from './types.js';

/** The record types fleetprobe asks for (the `dns` check's `type`). */
export const DNS_RECORD_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'TXT', 'SOA', 'PTR'] as const;
export type DnsRecordType = (typeof DNS_RECORD_TYPES)[number];

const TYPE_CODES: Record<DnsRecordType, number> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
};

export function isDnsRecordType(value: string): value is DnsRecordType {
  return Object.hasOwn(TYPE_CODES, value);
}

const FLAG_RD = 0x0100;
/** EDNS0 OPT pseudo-record: root name, type 41, class = UDP payload size, ttl 0, no options. */
const OPT_LEN = 11;

/** A name as `encodeQuery` puts it on the wire: without its trailing dot (`''` for the root). */
function wireName(name: string): string {
  return name.endsWith('.') ? name.slice(0, -1) : name;
}

/** A query name as the decoders print it once it is on the wire: no trailing dot, `.` for the root. */
export function questionNameOf(name: string): string {
  const fqdn = wireName(name);
  return fqdn === '' ? '.' : fqdn;
}

/**
 * Encodes a question-only query (one question, class IN, an EDNS0 OPT record when `udpPayloadSize > 0`).
 * Hand-written: it is on the hot path of bulk resolution and ~8x faster than `dns-packet.encode`.
 * Throws `DnsQueryError` for names that cannot go on the wire (empty label, label > 63, name > 253).
 */
export function encodeQuery(
  id: number,
  name: string,
  type: DnsRecordType,
  recursionDesired: boolean,
  udpPayloadSize: number,
): Buffer {
  const fqdn = wireName(name);
  const nameLen = fqdn === '' ? 1 : fqdn.length + 2;
  if (nameLen > 255)
    throw new DnsQueryError(`name too long (${fqdn.length} characters): ${fqdn.slice(0, 40)}...`);
  const edns = udpPayloadSize > 0;
  const buf = Buffer.allocUnsafe(12 + nameLen + 4 + (edns ? OPT_LEN : 0));
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(recursionDesired ? FLAG_RD : 0, 2);
  buf.writeUInt16BE(1, 4);
  buf.writeUInt32BE(0, 6);
  buf.writeUInt16BE(edns ? 1 : 0, 10);
  let off = 12;
  if (fqdn !== '') {
    let labelStart = off++;
    for (let i = 0; i < fqdn.length; i++) {
      const c = fqdn.charCodeAt(i);
      if (c === 46) {
        closeLabel(buf, labelStart, off, fqdn);
        labelStart = off++;
      } else {
        if (c > 127) throw new DnsQueryError(`name has a non-ASCII character (use punycode): ${fqdn}`);
        buf[off++] = c;
      }
    }
    closeLabel(buf, labelStart, off, fqdn);
  }
  buf[off++] = 0;
  buf.writeUInt16BE(TYPE_CODES[type], off);
  buf.writeUInt16BE(1, off + 2);
  off += 4;
  if (edns) {
    buf[off] = 0;
    buf.writeUInt16BE(41, off + 1);
    buf.writeUInt16BE(udpPayloadSize, off + 3);
    buf.writeUInt32BE(0, off + 5);
    buf.writeUInt16BE(0, off + 9);
  }
  return buf;
}

function closeLabel(buf: Buffer, labelStart: number, end: number, name: string): void {
  const len = end - labelStart - 1;
  if (len === 0) throw new DnsQueryError(`empty label in name: ${name}`);
  if (len > 63) throw new DnsQueryError(`label longer than 63 characters in name: ${name}`);
  buf[labelStart] = len;
}

/** Byte length of the question section of a query made by `encodeQuery` (name + type + class). */
export function questionLength(query: Buffer): number {
  let off = 12;
  while (off < query.length && query[off] !== 0) off += (query[off] ?? 0) + 1;
  return off + 1 + 4 - 12;
}

/** `matchQuestion`: not a reply to the query / its question differs in ASCII case only / byte for byte. */
export const QUESTION_MISMATCH = 0;
export const QUESTION_CASE_DIFFERS = 1;
export const QUESTION_EXACT = 2;

/**
 * Whether `reply` is a response (QR set) whose single question equals the query's, byte for byte except ASCII
 * case (`QUESTION_EXACT` when not even the case differs: the reply's question name then decodes to the
 * query's). No allocation: this runs for every datagram, matched or not. A compressed question name (legal,
 * never seen in practice) does not match: such a reply is ignored like any other that does not echo the question.
 */
export function matchQuestion(reply: Buffer, query: Buffer, qLen: number): number {
  if (reply.length < 12 + qLen) return QUESTION_MISMATCH;
  if ((reply[2]! & 0x80) === 0) return QUESTION_MISMATCH;
  if (reply[4] !== 0 || reply[5] !== 1) return QUESTION_MISMATCH;
  let match = QUESTION_EXACT;
  for (let i = 12, end = 12 + qLen; i < end; i++) {
    let a = reply[i]!;
    let b = query[i]!;
    if (a === b) continue;
    if (a >= 65 && a <= 90) a += 32;
    if (b >= 65 && b <= 90) b += 32;
    if (a !== b) return QUESTION_MISMATCH;
    match = QUESTION_CASE_DIFFERS;
  }
  return match;
}

/** The TC (truncated) bit of a reply. */
export function isTruncated(reply: Buffer): boolean {
  return (reply[2]! & 0x02) !== 0;
}

/**
 * Decodes a reply and normalises its records (OPT dropped): by hand when every record is of a type
 * fleetprobe asks for (the common case), else with dns-packet. Throws on a malformed packet.
 * `questionName`: `questionNameOf(name)` of the query, given only when the reply's question is the query's
 * byte for byte (`QUESTION_EXACT`).
 */
export function decodeReply(reply: Buffer, questionName?: string): DecodedReply {
  return decodeReplyFast(reply, questionName) ?? decodeReplyWithDnsPacket(reply);
}

/** Decodes a reply with dns-packet and normalises its records (OPT records dropped). */
export function decodeReplyWithDnsPacket(reply: Buffer): DecodedReply {
  const p = packet.decode(reply);
  const ext = p.additionals?.find((a) => a.type === 'OPT') as { extendedRcode?: number } | undefined;
  let rcode = (p as { rcode?: string }).rcode ?? 'UNKNOWN';
  if (ext?.extendedRcode) rcode = `RCODE${((ext.extendedRcode ?? 0) << 4) | (reply[3]! & 0x0f)}`;
  return {
    rcode,
    authoritative: p.flag_aa,
    answers: normaliseRecords(p.answers),
    authorities: normaliseRecords(p.authorities),
  };
}

function normaliseRecords(records: packet.Answer[] | undefined): DnsAnswer[] {
  if (!records || records.length === 0) return [];
  const out: DnsAnswer[] = [];
  for (const r of records) {
    if (r.type === 'OPT') continue;
    out.push({ name: r.name, type: r.type, ttl: (r as { ttl?: number }).ttl ?? 0, data: recordData(r) });
  }
  return out;
}

function recordData(r: packet.Answer): string {
  const data = (r as { data?: unknown }).data;
  switch (r.type) {
    case 'A':
    case 'AAAA':
    case 'CNAME':
    case 'NS':
    case 'PTR':
    case 'DNAME':
      return String(data);
    case 'MX':
      return `${r.data.preference} ${r.data.exchange}`;
    case 'TXT': {
      const parts = Array.isArray(r.data) ? r.data : [r.data];
      return parts.map((part) => (typeof part === 'string' ? part : part.toString('utf8'))).join('');
    }
    case 'SOA': {
      const s = r.data;
      return `${s.mname} ${s.rname} ${s.serial} ${s.refresh} ${s.retry} ${s.expire} ${s.minimum}`;
    }
    case 'SRV':
      return `${r.data.priority} ${r.data.weight} ${r.data.port} ${r.data.target}`;
    default:
      if (Buffer.isBuffer(data)) return data.toString('hex');
      return typeof data === 'string' ? data : (JSON.stringify(data) ?? '');
  }
}
