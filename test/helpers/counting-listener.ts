import net from 'node:net';

/**
 * A TCP listener that counts the connections it accepted and holds them until the client or `close()` ends them:
 * the checks started against it. On `0.0.0.0` every 127.x.y.z address reaches it; a check that waits for
 * bytes never gets any (a tarpit).
 */
export interface CountingListener {
  readonly port: number;
  accepted(): number;
  close(): Promise<void>;
}

/** Listens on `host` (default 127.0.0.1), on a free port. */
export async function countingListener(host = '127.0.0.1'): Promise<CountingListener> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    accepted: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
