import net from 'node:net';

/** The outcome of one raw HTTP/1.1 exchange (tests talk bytes, not the fleetprobe http check). */
export interface RawExchange {
  readonly data: Buffer;
  /** Error code when the connection failed (ECONNRESET, EPIPE...), else undefined. */
  readonly errorCode?: string;
}

export const REQUEST = 'GET / HTTP/1.1\r\nHost: sim\r\nConnection: close\r\n\r\n';

/** Connects, optionally sends `request`, collects every byte until the server closes or resets. */
export function exchange(
  host: string,
  port: number,
  request: string | undefined = REQUEST,
): Promise<RawExchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect({ host, port });
    socket.on('data', (c: Buffer) => chunks.push(c));
    if (request !== undefined) socket.on('connect', () => socket.write(request));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      socket.destroy();
      resolve({ data: Buffer.concat(chunks), errorCode: err.code ?? 'UNKNOWN' });
    });
    socket.on('close', () => resolve({ data: Buffer.concat(chunks) }));
  });
}

/** Connects, sends a request, and resolves with the socket once `n` bytes (or more) have arrived. */
export function readAtLeast(
  host: string,
  port: number,
  n: number,
): Promise<{ socket: net.Socket; data: Buffer }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const socket = net.connect({ host, port }, () => socket.write(REQUEST));
    const onData = (c: Buffer) => {
      chunks.push(c);
      total += c.length;
      if (total >= n) {
        socket.off('data', onData);
        socket.pause();
        resolve({ socket, data: Buffer.concat(chunks) });
      }
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`closed after ${total} bytes`)));
  });
}

export function headAndBody(data: Buffer): { head: string; body: string } {
  const text = data.toString('latin1');
  const at = text.indexOf('\r\n\r\n');
  return at < 0 ? { head: text, body: '' } : { head: text.slice(0, at), body: text.slice(at + 4) };
}
