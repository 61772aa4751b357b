import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';

/** What the misbehaving UDP server does with each query. */
export type Misbehaviour =
  /** Three forgeries (wrong id, wrong question, right reply from another port), then the right reply. */
  | 'spoof-then-answer'
  /** Only the forgeries: the real reply never comes. */
  | 'spoof-only'
  /** Never answers. */
  | 'silent'
  /** Answers with the TC bit; over TCP accepts and never answers. */
  | 'truncate-tcp-silent'
  /** Answers with the TC bit; nothing listens on TCP (connect refused). */
  | 'truncate-no-tcp'
  /** Garbage with the right id and no question, then the right reply. */
  | 'garbage-then-answer'
  /** The right reply, its question's letters in swapped case, its answer's name a pointer at the question. */
  | 'case-swapped-compressed';

export interface MisbehavingServer {
  readonly port: number;
  /** Queries received over UDP. */
  readonly received: () => number;
  /** TCP connections accepted / currently open. */
  readonly tcpAccepted: () => number;
  readonly tcpOpen: () => number;
  close(): Promise<void>;
}

export const ANSWER_ADDRESS = '127.9.9.9';

function reply(query: packet.DecodedPacket, overrides: Partial<packet.Packet> = {}): Buffer {
  return packet.encode({
    type: 'response',
    id: query.id,
    flags: packet.AUTHORITATIVE_ANSWER,
    questions: query.questions,
    answers: [{ name: query.questions![0]!.name, type: 'A', ttl: 5, data: ANSWER_ADDRESS }],
    ...overrides,
  });
}

/** Built by hand: dns-packet never compresses names. */
function caseSwappedCompressedReply(query: Buffer): Buffer {
  let end = 12;
  while (query[end] !== 0) end += query[end]! + 1;
  end += 5; // root label, type, class
  const out = Buffer.alloc(end + 16);
  query.copy(out, 0, 0, end);
  out.writeUInt16BE(0x8500, 2); // QR, AA, RD
  out.writeUInt16BE(1, 6); // one answer, no authority, no additional
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  for (let i = 13; i < end - 5; i++) {
    const c = out[i]!;
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) out[i] = c ^ 0x20;
  }
  Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 5, 0, 4]).copy(out, end);
  for (const [k, octet] of ANSWER_ADDRESS.split('.').entries()) out[end + 12 + k] = Number(octet);
  return out;
}

/** A UDP (+TCP, same port) DNS server on 127.0.0.1 that misbehaves as told. */
export async function startMisbehavingServer(mode: Misbehaviour): Promise<MisbehavingServer> {
  let udp = dgram.createSocket('udp4');
  const other = dgram.createSocket('udp4');
  let received = 0;
  let closed = false;
  let tcpAccepted = 0;
  const tcpSockets = new Set<net.Socket>();
  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    received++;
    const q = packet.decode(msg);
    const send = (buf: Buffer, from = udp) => {
      if (!closed) from.send(buf, rinfo.port, rinfo.address);
    };
    if (mode === 'silent') return;
    if (mode === 'truncate-tcp-silent' || mode === 'truncate-no-tcp') {
      send(reply(q, { answers: [], flags: packet.TRUNCATED_RESPONSE }));
      return;
    }
    if (mode === 'case-swapped-compressed') {
      send(caseSwappedCompressedReply(msg));
      return;
    }
    if (mode === 'garbage-then-answer') {
      const junk = Buffer.alloc(12);
      junk.writeUInt16BE(q.id ?? 0, 0);
      junk[2] = 0x80;
      send(junk);
      send(reply(q));
      return;
    }
    send(reply(q, { id: ((q.id ?? 0) + 1) & 0xffff }));
    send(reply(q, { questions: [{ name: 'evil.example', type: 'A' }] }));
    send(reply(q), other);
    if (mode === 'spoof-then-answer') setTimeout(() => send(reply(q)), 20);
  };
  udp.on('message', onMessage);
  const tcp = net.createServer((socket) => {
    tcpAccepted++;
    tcpSockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => tcpSockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => other.bind(0, '127.0.0.1', resolve));
  // UDP and TCP on the same port: pick a free UDP port, retry when its TCP twin is taken.
  let port = 0;
  for (let tries = 0; ; tries++) {
    await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
    port = udp.address().port;
    if (mode === 'truncate-no-tcp') break;
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) break;
    if (tries > 20) throw new Error('no free UDP+TCP port pair');
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    udp = dgram.createSocket('udp4');
    udp.on('message', onMessage);
  }
  return {
    port,
    received: () => received,
    tcpAccepted: () => tcpAccepted,
    tcpOpen: () => tcpSockets.size,
    async close() {
      closed = true;
      for (const s of tcpSockets) s.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => other.close(() => r())),
        new Promise<void>((r) => (tcp.listening ? tcp.close(() => r()) : r())),
      ]);
    },
  };
}
