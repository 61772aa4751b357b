import net from 'node:net';
import type { FleetModel, SimHost } from './fleet-model.js';
import { serveSim } from './listen.js';
import type { SimListenOptions, SimServer } from './sim-server.js';
import { ignoreErrors, SocketSet } from './socket-set.js';

/** The line a healthy TCP host writes on accept: `fleetprobe-sim h<i>\r\n`. */
export function tcpBanner(host: SimHost): string {
  return `fleetprobe-sim h${host.index}\r\n`;
}

/**
 * Plain TCP for the whole fleet on one wildcard listener. healthy: writes the banner and ends (FIN); tarpit: accepts and stays silent;
 * reset / refused: RST right after accept (see http-server.ts on why not a real refusal).
 */
export async function startSimTcpServer(
  model: FleetModel,
  options: SimListenOptions = {},
): Promise<SimServer> {
  const sockets = new SocketSet();
  const server = net.createServer({ noDelay: true }, (socket) => {
    ignoreErrors(socket);
    const host = model.hostAt(socket.localAddress ?? '');
    if (!host) {
      socket.destroy();
      return;
    }
    switch (host.tcp) {
      case 'reset':
      case 'refused':
        socket.resetAndDestroy();
        return;
      case 'healthy':
        sockets.add(socket);
        socket.resume(); // discard whatever the client sends
        socket.end(tcpBanner(host));
        return;
      case 'tarpit':
        sockets.add(socket);
        socket.resume();
        return;
      default:
        host.tcp satisfies never;
    }
  });
  return serveSim(server, sockets, options);
}
