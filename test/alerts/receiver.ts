import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/**
 * A real HTTP receiver on loopback: records every POST and answers with the next scripted status (the last
 * one repeats). `next()` resolves with the next request as it arrives (a handshake, not a sleep).
 */
export async function startReceiver(statuses: number[] = [200]) {
  const received: Received[] = [];
  const waiters: ((r: Received) => void)[] = [];
  let i = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      waiters.shift()?.(r);
      const status = statuses[Math.min(i++, statuses.length - 1)]!;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : `status ${status}`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook/secret-path`;
  return {
    url,
    received,
    /** The next request to arrive (or the one already received at index `received.length`). */
    next: (): Promise<Received> => new Promise((resolve) => waiters.push(resolve)),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
