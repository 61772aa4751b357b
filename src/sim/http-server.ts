import net from 'node:net';
import type { FleetModel } from './fleet-model.js';
import { type HttpBehaviourOptions, MISDIRECTED, serveHttp } from './http-behaviour.js';
import { serveSim } from './listen.js';
import type { SimListenOptions, SimServer } from './sim-server.js';
import { ignoreErrors, SocketSet } from './socket-set.js';

/**
 * Plain HTTP for the whole fleet: ONE `net.Server` (no node:http: a raw handler is cheaper and can
 * misbehave at byte level), keyed on the local address each connection arrived at.
 * `refused` hosts get a TCP RST right after accept (a real ECONNREFUSED needs no listener on the
 * address, impossible behind one wildcard listener); `reset` hosts get the RST after their request.
 */
export async function startSimHttpServer(
  model: FleetModel,
  options: SimListenOptions & HttpBehaviourOptions = {},
): Promise<SimServer> {
  const sockets = new SocketSet();
  const server = net.createServer({ noDelay: true }, (socket) => {
    ignoreErrors(socket);
    const host = model.hostAt(socket.localAddress ?? '');
    if (!host) {
      socket.resume(); // read to EOF, or the socket never learns the client left
      socket.end(MISDIRECTED);
      return;
    }
    if (host.http === 'refused') {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    serveHttp(socket, socket, host, options);
  });
  return serveSim(server, sockets, options);
}
