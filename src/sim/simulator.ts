import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FleetprobeError } from '../core/errors.js';
import { generateSimCerts } from './certs.js';
import { type ControlServer, startControlServer } from './control-server.js';
import { startSimDnsServer } from './dns/dns-server.js';
import { FaultOverrides } from './fault-overrides.js';
import { createFleetModel } from './fleet.js';
import type { FleetModel } from './fleet-model.js';
import { startSimHttpServer } from './http-server.js';
import { startSimHttpsServer } from './https-server.js';
import { ipv4ToInt } from './ipv4.js';
import { loadProfile, type SimProfile } from './profile.js';
import { startSimSshServer } from './ssh/ssh-server.js';
import { startSimTcpServer } from './tcp-server.js';

/** The protocols the sim can serve, each on its own port. */
export const SIM_SERVICES = ['http', 'https', 'tcp', 'dns', 'ssh'] as const;
export type SimService = (typeof SIM_SERVICES)[number];

/** Default ports (`fleetprobe sim` flags change them; 0 picks a free port). */
export const DEFAULT_SIM_PORTS: Readonly<Record<SimService, number>> = Object.freeze({
  http: 8080,
  https: 8443,
  tcp: 9000,
  dns: 5353,
  ssh: 2222,
});

export interface SimulatorOptions {
  /** Number of hosts (default 1000): `base + 0 .. base + hosts - 1`. */
  readonly hosts?: number;
  /** First address (default `127.20.0.0`); the range must stay inside 127.0.0.0/8. */
  readonly base?: string;
  /** Default 1. */
  readonly seed?: number;
  /** Default `fleet.test`. */
  readonly zone?: string;
  /** `healthy` (default), `mixed`, a profile file path, or a parsed profile. */
  readonly profile?: string | SimProfile;
  /** Listen address of every protocol (default `0.0.0.0`: serves all 127.x.y.z). */
  readonly bind?: string;
  /** Port per protocol (default `DEFAULT_SIM_PORTS`; 0 = any free port, the chosen one is in `ports`). */
  readonly ports?: Partial<Record<SimService, number>>;
  /** Which protocols to start (default all). */
  readonly protocols?: readonly SimService[];
  /** Where the CA, keys and known_hosts go. Default: a fresh temp dir, removed by `close()`. */
  readonly stateDir?: string;
  /**
   * Port of the control endpoint on 127.0.0.1 (`GET/POST/DELETE /faults`, see control-server.ts); 0 picks
   * a free one. Default: no control endpoint (`faults` still works in-process).
   */
  readonly controlPort?: number;
  /** `drip-body` interval (default 1000 ms); tests shorten it. */
  readonly dripIntervalMs?: number;
  /** Aborting during start stops what was started and rejects with the reason. */
  readonly signal?: AbortSignal;
}

/** A running simulator. */
export interface Simulator {
  readonly model: FleetModel;
  /** Bound port per started protocol (undefined: not started). */
  readonly ports: Readonly<{ http?: number; https?: number; tcp?: number; dns?: number; ssh?: number }>;
  readonly bind: string;
  readonly stateDir: string;
  /**
   * Fault overrides applied while the sim runs (most recent wins, consulted before the profile); every
   * protocol server and `model.host()` see a change at once. The control endpoint edits the same object.
   */
  readonly faults: FaultOverrides;
  /** Port of the control endpoint on 127.0.0.1; undefined without `controlPort`. */
  readonly controlPort: number | undefined;
  /** PEM CA the HTTPS leaves chain to (when https runs). */
  readonly caFile?: string;
  /** Private key the SSH server accepts (when ssh runs). */
  readonly clientKeyFile?: string;
  /** known_hosts with every host's correct key (when ssh runs). */
  readonly knownHostsFile?: string;
  /** Sockets currently held open across all protocols. */
  openSockets(): number;
  /** Stops every listener, destroys held sockets, removes a temp state dir. Idempotent. */
  close(): Promise<void>;
}

/** A sim listener could not start (port in use, address not available...). */
export class SimListenError extends FleetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FP_SIM_LISTEN', message, options);
  }
}

interface PluggableServer {
  readonly port: number;
  openSockets?: () => number;
  close(): Promise<void>;
  readonly clientKeyFile?: string;
  readonly knownHostsFile?: string;
}

/**
 * Starts the simulated fleet: builds the model, generates the CA (https) and starts every protocol's
 * single wildcard listener. On any failure, what was started is closed before rejecting.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const profile =
    typeof options.profile === 'object' ? options.profile : loadProfile(options.profile ?? 'healthy');
  const hosts = options.hosts ?? 1000;
  // createFleetModel validates base and size; an invalid base throws there before faults are used.
  const faults = new FaultOverrides({ baseInt: ipv4ToInt(options.base ?? '127.20.0.0'), size: hosts });
  const model = createFleetModel({
    hosts,
    overrides: faults,
    ...(options.base !== undefined ? { base: options.base } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.zone !== undefined ? { zone: options.zone } : {}),
    profile,
  });
  const bind = options.bind ?? '0.0.0.0';
  const wanted = new Set(options.protocols ?? SIM_SERVICES);
  const portOf = (s: SimService) => options.ports?.[s] ?? DEFAULT_SIM_PORTS[s];
  const ownStateDir = options.stateDir === undefined;
  const stateDir = options.stateDir ?? (await mkdtemp(path.join(os.tmpdir(), 'fleetprobe-sim-')));
  const servers: PluggableServer[] = [];
  let control: ControlServer | undefined;
  const ports: Partial<Record<SimService, number>> = {};
  let caFile: string | undefined;
  let clientKeyFile: string | undefined;
  let knownHostsFile: string | undefined;
  const signal = options.signal;
  const behaviour = options.dripIntervalMs !== undefined ? { dripIntervalMs: options.dripIntervalMs } : {};

  const closeAll = async () => {
    await Promise.all([...servers.map((s) => s.close()), control?.close()]);
    if (ownStateDir) await rm(stateDir, { recursive: true, force: true });
  };
  const start = async (service: SimService, fn: (port: number) => Promise<PluggableServer>) => {
    signal?.throwIfAborted();
    const port = portOf(service);
    try {
      const server = await fn(port);
      servers.push(server);
      ports[service] = server.port;
      return server;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL' || code === 'EACCES') {
        throw new SimListenError(`${service}: cannot listen on ${bind}:${port}: ${code}`, { cause: err });
      }
      throw err;
    }
  };

  try {
    if (wanted.has('http'))
      await start('http', (port) => startSimHttpServer(model, { port, host: bind, ...behaviour }));
    if (wanted.has('https')) {
      const certs = await generateSimCerts(path.join(stateDir, 'tls'), model.zone, signal);
      caFile = certs.caFile;
      await start('https', (port) => startSimHttpsServer(model, certs, { port, host: bind, ...behaviour }));
    }
    if (wanted.has('tcp')) await start('tcp', (port) => startSimTcpServer(model, { port, host: bind }));
    if (wanted.has('dns')) await start('dns', (port) => startSimDnsServer(model, { port, host: bind }));
    if (wanted.has('ssh')) {
      const ssh = await start('ssh', (port) =>
        startSimSshServer(model, {
          port,
          host: bind,
          seed: model.seed,
          stateDir: path.join(stateDir, 'ssh'),
        }),
      );
      clientKeyFile = ssh.clientKeyFile;
      knownHostsFile = ssh.knownHostsFile;
    }
    if (options.controlPort !== undefined) {
      signal?.throwIfAborted();
      try {
        control = await startControlServer(model, faults, { port: options.controlPort });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        throw new SimListenError(`control: cannot listen on 127.0.0.1:${options.controlPort}: ${code}`, {
          cause: err,
        });
      }
    }
  } catch (err) {
    await closeAll();
    throw err;
  }

  let closing: Promise<void> | undefined;
  return {
    model,
    ports,
    bind,
    stateDir,
    faults,
    controlPort: control?.port,
    ...(caFile ? { caFile } : {}),
    ...(clientKeyFile ? { clientKeyFile } : {}),
    ...(knownHostsFile ? { knownHostsFile } : {}),
    openSockets: () => servers.reduce((n, s) => n + (s.openSockets?.() ?? 0), 0),
    close: () => {
      closing ??= closeAll();
      return closing;
    },
  };
}
