import net from 'node:net';
import tls from 'node:tls';
import type { SimCerts } from './certs.js';
import type { FleetModel, TlsFault } from './fleet-model.js';
import { GARBAGE, type HttpBehaviourOptions, MISDIRECTED, serveHttp } from './http-behaviour.js';
import { serveSim } from './listen.js';
import type { SimListenOptions, SimServer } from './sim-server.js';
import { ignoreErrors, SocketSet } from './socket-set.js';

/**
 * HTTPS for the whole fleet: one `net.Server`; each connection picks its certificate by the host's TLS
 * fault (looked up by local address, not SNI) and is wrapped in a server `TLSSocket`. Connection-level
 * HTTP faults act before TLS: tarpit (silent, no handshake), refused (RST at accept), garbage (non-TLS
 * bytes). The other HTTP faults act inside TLS, as for plain HTTP.
 */
export async function startSimHttpsServer(
  model: FleetModel,
  certs: SimCerts,
  options: SimListenOptions & HttpBehaviourOptions = {},
): Promise<SimServer> {
  const contexts = new Map<TlsFault, tls.SecureContext>();
  for (const [fault, cert] of Object.entries(certs.leaves) as [TlsFault, string][]) {
    contexts.set(fault, tls.createSecureContext({ key: certs.key, cert: `${cert}${certs.ca}` }));
  }
  const sockets = new SocketSet();
  const server = net.createServer({ noDelay: true }, (socket) => {
    ignoreErrors(socket);
    const host = model.hostAt(socket.localAddress ?? '');
    if (host?.http === 'refused') {
      socket.resetAndDestroy();
      return;
    }
    sockets.add(socket);
    if (host?.http === 'tarpit') {
      socket.resume();
      return;
    }
    if (host?.http === 'garbage') {
      socket.resume(); // read to EOF, or the socket never learns the client left
      socket.end(GARBAGE);
      return;
    }
    const secure = new tls.TLSSocket(socket, {
      isServer: true,
      secureContext: contexts.get(host?.tls ?? 'healthy'),
    });
    ignoreErrors(secure);
    secure.once('close', () => socket.destroy());
    if (!host) {
      secure.resume();
      secure.end(MISDIRECTED);
      return;
    }
    serveHttp(secure, socket, host, options);
  });
  return serveSim(server, sockets, options);
}
