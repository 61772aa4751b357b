import type net from 'node:net';

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
