import type net from 'node:net';
import type { SimListenOptions, SimServer } from './sim-server.js';
import type { SocketSet } from './socket-set.js';

/** Listens and resolves with the bound port; rejects on a listen error (e.g. EADDRINUSE). */
export function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    });
  });
}

/** Closes the listener after destroying its open sockets; resolves once the server is closed. */
export function closeServer(server: net.Server, destroyOpen: () => void): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    destroyOpen();
  });
}

/** Listens with `server` and returns it as a SimServer whose idempotent close destroys `sockets`. */
export async function serveSim(
  server: net.Server,
  sockets: SocketSet,
  options: SimListenOptions,
): Promise<SimServer> {
  const port = await listen(server, options.port ?? 0, options.host ?? '0.0.0.0');
  let closing: Promise<void> | undefined;
  return {
    port,
    openSockets: () => sockets.size,
    close: () => {
      closing ??= closeServer(server, () => sockets.destroyAll());
      return closing;
    },
  };
}
