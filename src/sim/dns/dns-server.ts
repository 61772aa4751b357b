import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';
import { hostByName } from '../fleet.js';
import type { FleetModel, SimHost } from '../fleet-model.js';
import { closeServer } from '../listen.js';
import type { SimServer } from '../sim-server.js';
import { ignoreErrors, SocketSet } from '../socket-set.js';

/** The address a `wrong-address` host's A record points to. */
export const WRONG_ADDRESS = '127.255.255.254';
/** TTL of every record the sim serves. */
export const SIM_DNS_TTL = 60;

export interface SimDnsListenOptions {
  /** Default 0 (a free port; UDP and TCP share it). */
  readonly port?: number;
  /**
   * Default `127.0.0.1`. A UDP reply leaves from the address the kernel picks for the client (127.0.0.1 on
   * loopback), not from the address the query was sent to, and node cannot choose it (no IP_PKTINFO). A DNS
   * client that checks the reply's source (fleetprobe's does) would ignore replies from a wildcard listener
   * asked at 127.x.y.z, so ask the sim at the address it is bound to: `--arg server=127.0.0.1:<port>`.
   */
  readonly host?: string;
}

const QTYPE = { A: 1, NS: 2, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, OPT: 41 } as const;
const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const;

interface Question {
  /** Lower-case, no trailing dot. */
  name: string;
  type: number;
  /** Offset just past the question section. */
  end: number;
  edns: boolean;
}

/**
 * The simulator's authoritative DNS server for `model.zone`, UDP and TCP on one port:
 * `h<i>.<zone>` A -> host i's address (TXT `fleetprobe-sim h<i>`, other types: no data), PTR for the
 * reverse name of a fleet address -> `h<i>.<zone>`, SOA and NS at the apex (`ns.<zone>` A -> the listen host).
 *
 * Faults apply by the host ASKED ABOUT (the name `h<i>`, or the address of a PTR question), never by the
 * address the query arrived at: with one `server=` for bulk resolution only that rule works.
 * `nxdomain` -> NXDOMAIN; `servfail` -> SERVFAIL; `no-reply` -> dropped (UDP) / connection left silent
 * (TCP); `truncated` -> over UDP an empty reply with TC set, over TCP the full answer; `wrong-address` ->
 * A `127.255.255.254`. Names outside the zone get REFUSED; unknown names in it NXDOMAIN.
 * A records are encoded by hand (the bulk path); the rest with dns-packet.
 */
export async function startSimDnsServer(
  model: FleetModel,
  options: SimDnsListenOptions = {},
): Promise<SimServer> {
  const host = options.host ?? '127.0.0.1';
  const zone = model.zone;
  const sockets = new SocketSet();
  const tcp = net.createServer({ noDelay: true }, (socket) => {
    ignoreErrors(socket);
    sockets.add(socket);
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) return;
        const reply = answer(buf.subarray(2, 2 + len), true);
        buf = buf.subarray(2 + len);
        if (!reply) continue;
        const frame = Buffer.allocUnsafe(2 + reply.length);
        frame.writeUInt16BE(reply.length, 0);
        reply.copy(frame, 2);
        socket.write(frame);
      }
    });
  });
  // UDP and TCP share the port: with port 0, take a free UDP port and retry while its TCP twin is taken.
  let udp: dgram.Socket | undefined;
  let port = 0;
  for (let tries = 0; udp === undefined; tries++) {
    const candidate = dgram.createSocket({
      type: net.isIPv6(host) ? 'udp6' : 'udp4',
      recvBufferSize: 8 * 1024 * 1024,
      sendBufferSize: 8 * 1024 * 1024,
    });
    await new Promise<void>((resolve, reject) => {
      candidate.once('error', reject);
      candidate.bind({ port: options.port ?? 0, address: host, exclusive: true }, () => {
        candidate.off('error', reject);
        resolve();
      });
    });
    port = candidate.address().port;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port, host, backlog: 1024 }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      udp = candidate;
    } catch (err) {
      await new Promise<void>((resolve) => candidate.close(() => resolve()));
      if ((options.port ?? 0) !== 0 || tries >= 20) throw err;
    }
  }
  const udpSocket = udp;
  udpSocket.on('error', () => {});
  udpSocket.on('message', (msg, rinfo) => {
    const reply = answer(msg, false);
    if (reply) udpSocket.send(reply, rinfo.port, rinfo.address);
  });

  function answer(msg: Buffer, overTcp: boolean): Buffer | undefined {
    if (msg.length < 12 || (msg[2]! & 0x80) !== 0) return undefined; // not a query: drop
    const q = parseQuestion(msg);
    if (!q) return header(msg, 12, RCODE.FORMERR, 0, false);
    const fast = answerFleet(msg, q, overTcp);
    if (fast !== null) return fast;
    return answerOther(msg, q);
  }

  /** Questions about fleet hosts (forward or reverse); `null` when the name is not a fleet host's. */
  function answerFleet(msg: Buffer, q: Question, overTcp: boolean): Buffer | undefined | null {
    let h: SimHost | undefined;
    const ptr = q.name.endsWith('.in-addr.arpa');
    if (ptr) h = hostOfReverse(q.name);
    else if (q.name.charCodeAt(0) === 104 /* h */) h = hostByName(model, q.name);
    if (!h) return null;
    switch (h.dns) {
      case 'no-reply':
        return undefined;
      case 'nxdomain':
        return withSoa(msg, q, RCODE.NXDOMAIN);
      case 'servfail':
        return header(msg, q.end, RCODE.SERVFAIL, 0, q.edns);
      case 'truncated':
        if (!overTcp) return header(msg, q.end, RCODE.NOERROR, 0, q.edns, true);
        break;
      case 'healthy':
      case 'wrong-address':
        break;
      default:
        h.dns satisfies never;
    }
    if (ptr) {
      if (q.type !== QTYPE.PTR) return withSoa(msg, q, RCODE.NOERROR);
      return encodeFull(msg, q, RCODE.NOERROR, [
        { name: q.name, type: 'PTR', ttl: SIM_DNS_TTL, data: h.name },
      ]);
    }
    if (q.type === QTYPE.A) return aReply(msg, q, h.dns === 'wrong-address' ? WRONG_ADDRESS : h.address);
    if (q.type === QTYPE.TXT) {
      return encodeFull(msg, q, RCODE.NOERROR, [
        { name: q.name, type: 'TXT', ttl: SIM_DNS_TTL, data: `fleetprobe-sim h${h.index}` },
      ]);
    }
    return withSoa(msg, q, RCODE.NOERROR); // NODATA
  }

  function answerOther(msg: Buffer, q: Question): Buffer {
    const inZone = q.name === zone || q.name.endsWith(`.${zone}`);
    if (!inZone) return header(msg, q.end, RCODE.REFUSED, 0, q.edns);
    if (q.name === zone) {
      if (q.type === QTYPE.SOA) return encodeFull(msg, q, RCODE.NOERROR, [soaRecord()]);
      if (q.type === QTYPE.NS) {
        return encodeFull(msg, q, RCODE.NOERROR, [
          { name: zone, type: 'NS', ttl: SIM_DNS_TTL, data: `ns.${zone}` },
        ]);
      }
      return withSoa(msg, q, RCODE.NOERROR);
    }
    if (q.name === `ns.${zone}`) {
      if (q.type === QTYPE.A && net.isIPv4(host)) return aReply(msg, q, host);
      return withSoa(msg, q, RCODE.NOERROR);
    }
    return withSoa(msg, q, RCODE.NXDOMAIN);
  }

  function hostOfReverse(name: string): SimHost | undefined {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4) return undefined;
    return model.hostAt(parts.reverse().join('.'));
  }

  function soaRecord(): packet.Answer {
    return {
      name: zone,
      type: 'SOA',
      ttl: SIM_DNS_TTL,
      data: {
        mname: `ns.${zone}`,
        rname: `hostmaster.${zone}`,
        serial: 1,
        refresh: 3600,
        retry: 600,
        expire: 86400,
        minimum: SIM_DNS_TTL,
      },
    };
  }

  function withSoa(msg: Buffer, q: Question, rcode: number): Buffer {
    return encodeFull(msg, q, rcode, [], [soaRecord()]);
  }

  function encodeFull(
    msg: Buffer,
    q: Question,
    rcode: number,
    answers: packet.Answer[],
    authorities: packet.Answer[] = [],
  ): Buffer {
    const rd = msg[2]! & 0x01 ? packet.RECURSION_DESIRED : 0;
    return packet.encode({
      type: 'response',
      id: msg.readUInt16BE(0),
      flags: packet.AUTHORITATIVE_ANSWER | rd | rcode,
      questions: [{ name: q.name, type: typeName(q.type), class: 'IN' }],
      answers,
      authorities,
      additionals: q.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as packet.Answer] : [],
    });
  }

  return {
    port,
    openSockets: () => sockets.size,
    close: (() => {
      let closing: Promise<void> | undefined;
      return () => {
        closing ??= Promise.all([
          new Promise<void>((resolve) => udpSocket.close(() => resolve())),
          closeServer(tcp, () => sockets.destroyAll()),
        ]).then(() => {});
        return closing;
      };
    })(),
  };
}

function typeName(code: number): packet.RecordType {
  const name = Object.entries(QTYPE).find(([, c]) => c === code)?.[0];
  return (name ?? 'A') as packet.RecordType;
}

/** Parses the single question (uncompressed name) and notes whether the query carries an OPT record. */
function parseQuestion(msg: Buffer): Question | undefined {
  if (msg.readUInt16BE(4) !== 1) return undefined;
  let off = 12;
  let name = '';
  for (;;) {
    const len = msg[off];
    if (len === undefined || len > 63) return undefined;
    off++;
    if (len === 0) break;
    if (off + len > msg.length) return undefined;
    name += (name ? '.' : '') + msg.toString('latin1', off, off + len).toLowerCase();
    off += len;
  }
  if (off + 4 > msg.length) return undefined;
  const type = msg.readUInt16BE(off);
  return { name, type, end: off + 4, edns: msg.readUInt16BE(10) > 0 };
}

/**
 * A reply with the query's header and question, no records (rcode, TC). The OPT record is echoed when the
 * query had one.
 */
function header(msg: Buffer, questionEnd: number, rcode: number, ancount: number, edns: boolean, tc = false) {
  const out = Buffer.allocUnsafe(questionEnd + (edns ? 11 : 0));
  msg.copy(out, 0, 0, questionEnd);
  out[2] = 0x80 | 0x04 | (tc ? 0x02 : 0) | (msg[2]! & 0x01); // QR AA [TC] RD
  out[3] = rcode;
  if (questionEnd === 12) out.writeUInt16BE(0, 4);
  out.writeUInt16BE(ancount, 6);
  out.writeUInt32BE(edns ? 1 : 0, 8);
  if (edns) writeOpt(out, questionEnd);
  return out;
}

function writeOpt(out: Buffer, off: number): void {
  out[off] = 0;
  out.writeUInt16BE(41, off + 1);
  out.writeUInt16BE(1232, off + 3);
  out.writeUInt32BE(0, off + 5);
  out.writeUInt16BE(0, off + 9);
}

/** The hot path: one A record whose owner is a pointer to the question name. */
function aReply(msg: Buffer, q: Question, address: string): Buffer {
  const out = Buffer.allocUnsafe(q.end + 16 + (q.edns ? 11 : 0));
  msg.copy(out, 0, 0, q.end);
  out[2] = 0x84 | (msg[2]! & 0x01);
  out[3] = 0;
  out.writeUInt16BE(1, 6);
  out.writeUInt32BE(q.edns ? 1 : 0, 8);
  let off = q.end;
  out.writeUInt16BE(0xc00c, off);
  out.writeUInt16BE(QTYPE.A, off + 2);
  out.writeUInt16BE(1, off + 4);
  out.writeUInt32BE(SIM_DNS_TTL, off + 6);
  out.writeUInt16BE(4, off + 10);
  off += 12;
  for (const part of address.split('.')) out[off++] = Number(part);
  if (q.edns) writeOpt(out, off);
  return out;
}
