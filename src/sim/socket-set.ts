import type net from 'node:net';

/**
 * The live sockets of one sim server, so `close()` can destroy them (tarpits, endless bodies and drips
 * never end on their own). Holds only sockets that are open: each removes itself on 'close'.
 */
export class SocketSet {
  readonly #sockets = new Set<net.Socket>();

  add(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  get size(): number {
    return this.#sockets.size;
  }

  destroyAll(): void {
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }
}

/** Server-side sockets see client resets and EPIPE all the time: they are expected, not failures. */
export function ignoreErrors(socket: net.Socket): void {
  socket.on('error', () => {});
}
