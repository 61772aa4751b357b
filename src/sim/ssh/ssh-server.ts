import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import ssh2, { type AuthContext, type Connection, type ParsedKey, type ServerChannel } from 'ssh2';
import { withFastSign } from '../../checks/ssh/fast-sign.js';
import type { FleetModel, SimHost } from '../fleet-model.js';
import { closeServer, listen } from '../listen.js';
import type { SimServer } from '../sim-server.js';
import { ignoreErrors, SocketSet } from '../socket-set.js';
import { deriveEd25519, type Ed25519Pair, ed25519FromSecret } from './keys.js';
import { parseSimCommand, type SimCommand } from './sim-commands.js';

// ssh2 is CommonJS: Node's ESM loader does not see its named exports.
const { Server, utils } = ssh2;
type Server = InstanceType<typeof ssh2.Server>;

export interface SimSshOptions {
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Default `0.0.0.0`: one listener serves every 127.x.y.z address. */
  readonly host?: string;
  /** Host keys derive from it (default: the model's seed). */
  readonly seed?: number;
  /** Where `client_ed25519` (0600) and `known_hosts` are written. Created if missing. */
  readonly stateDir: string;
  /**
   * `per-host`: host i presents its own ed25519 key derived from (seed, i), and known_hosts gets one line
   * per host. `fleet`: one seed-derived key for all hosts and a single wildcard known_hosts line.
   * Default: `per-host` up to 2,000 hosts, else `fleet`: per-host keys are derived at startup, ~0.5-1.5 ms
   * each (OpenSSL 3 key decoding), so 100k hosts would take minutes and a 10 MB known_hosts.
   */
  readonly hostKeys?: 'per-host' | 'fleet';
  /** More public keys (authorized_keys form) accepted besides the generated client key. */
  readonly authorizedKeys?: readonly string[];
  /** Bytes a `huge-output` host writes (default 10 MB). */
  readonly hugeOutputBytes?: number;
}

export interface SimSshServer extends SimServer {
  /** The private key the sim accepts (unencrypted OpenSSH format, mode 0600). */
  readonly clientKeyFile: string;
  /** The public key, authorized_keys form. */
  readonly clientPublicKey: string;
  /** A known_hosts file listing each host's correct key (`wrong-host-key` hosts present another). */
  readonly knownHostsFile: string;
  /** Public key blob host `index` presents (for tests). */
  hostKeyBlob(index: number): Buffer;
}

const SERVER_CACHE_MAX = 4096;

/**
 * The simulator's SSH server (ssh2 `Server`), one wildcard listener for the whole fleet; each
 * connection behaves as `model.hostAt(localAddress).ssh` says:
 * - healthy: publickey auth with the client key; commands `true`, `false`, `echo ARGS`, `uname -a`,
 *   `sleep N`, `exit N`, `cat /etc/hostname` (others: exit 127, "not found" on stderr); `sh -c '...'`
 *   wrappers are unwrapped.
 * - wrong-host-key: presents a key other than the one in known_hosts.
 * - auth-refused: rejects every authentication attempt.
 * - hang-before-auth: accepts TCP and never sends the SSH banner.
 * - hang-after-auth: auth succeeds; exec requests are never answered.
 * - nonzero-exit: every command exits 1.
 * - huge-output: every command writes `hugeOutputBytes` to stdout (honouring backpressure), exits 0.
 * Nothing is forked per connection; sessions are in-process.
 */
export async function startSimSshServer(model: FleetModel, options: SimSshOptions): Promise<SimSshServer> {
  const seed = options.seed ?? model.seed;
  const perHost = (options.hostKeys ?? (model.size <= 2000 ? 'per-host' : 'fleet')) === 'per-host';
  const hugeBytes = options.hugeOutputBytes ?? 10 * 1024 * 1024;
  await mkdir(options.stateDir, { recursive: true, mode: 0o700 });

  const client = ed25519FromSecret(randomBytes(32), 'fleetprobe-sim-client');
  const accepted: ParsedKey[] = [client.publicKey, ...(options.authorizedKeys ?? [])].map((text) => {
    const k = utils.parseKey(text);
    if (k instanceof Error) throw k;
    return Array.isArray(k) ? k[0]! : k;
  });
  const clientKeyFile = join(options.stateDir, 'client_ed25519');
  await writeFile(clientKeyFile, client.privateKey, { mode: 0o600 });
  await writeFile(`${clientKeyFile}.pub`, `${client.publicKey}\n`, { mode: 0o644 });

  // Host keys, parsed once with a fast signer (see withFastSign): ssh2 would otherwise decode the PEM for
  // every handshake signature. Per-host keys are derived at startup (they are needed for known_hosts
  // anyway) and kept, so no connection pays for a derivation (~1 ms of OpenSSL key decoding each).
  const parsed = (pair: Ed25519Pair): ParsedKey => {
    const k = utils.parseKey(pair.privateKey);
    if (k instanceof Error) throw k;
    return withFastSign(Array.isArray(k) ? k[0]! : k, pair.keyObject);
  };
  const fleetKey = deriveEd25519(seed, 'fleet');
  const fleetParsed = parsed(fleetKey);
  const wrongFleetKey = deriveEd25519(seed, 'wrong');
  const wrongFleetParsed = parsed(wrongFleetKey);
  const hostPairs: Ed25519Pair[] = [];
  const hostParsed: ParsedKey[] = [];
  if (perHost) {
    for (let i = 0; i < model.size; i++) {
      const pair = deriveEd25519(seed, `host-${i}`, `h${i}`);
      hostPairs.push(pair);
      hostParsed.push(parsed(pair));
    }
  }
  const wrongKeys = new Map<number, { pair: Ed25519Pair; key: ParsedKey }>();
  const keyFor = (host: SimHost): { blob: Buffer; key: ParsedKey } => {
    const wrong = host.ssh === 'wrong-host-key';
    if (!perHost)
      return wrong
        ? { blob: wrongFleetKey.blob, key: wrongFleetParsed }
        : { blob: fleetKey.blob, key: fleetParsed };
    if (!wrong) return { blob: hostPairs[host.index]!.blob, key: hostParsed[host.index]! };
    let w = wrongKeys.get(host.index);
    if (!w) {
      const pair = deriveEd25519(seed, `wrong-${host.index}`, `h${host.index}`);
      w = { pair, key: parsed(pair) };
      wrongKeys.set(host.index, w);
    }
    return { blob: w.pair.blob, key: w.key };
  };

  const sockets = new SocketSet();
  // One ssh2 Server object per host (never listening: sockets are injected), so each gets its own host key
  // and its behaviour by closure. Bounded cache; rebuilding one is cheap (the key is already parsed).
  const servers = new Map<number, Server>();
  const serverFor = (host: SimHost): Server => {
    let srv = servers.get(host.index);
    if (srv) {
      servers.delete(host.index);
      servers.set(host.index, srv);
      return srv;
    }
    srv = new Server({ hostKeys: [{ key: keyFor(host).key as never }] }, (conn) => serve(conn, host));
    srv.on('error', () => {});
    servers.set(host.index, srv);
    if (servers.size > SERVER_CACHE_MAX) servers.delete(servers.keys().next().value!);
    return srv;
  };

  const serve = (conn: Connection, host: SimHost) => {
    conn.on('error', () => {});
    conn.on('authentication', (ctx) => authenticate(ctx, host, accepted));
    conn.on('ready', () => {
      conn.on('session', (accept) => {
        const session = accept();
        session.on('pty', (ok) => ok?.());
        session.on('env', (ok) => ok?.());
        session.on('exec', (ok, _reject, info) => {
          if (host.ssh === 'hang-after-auth') return; // never answered
          const channel = ok();
          runCommand(channel, host, info.command, hugeBytes);
        });
      });
    });
  };

  const server = net.createServer({ noDelay: true }, (socket) => {
    ignoreErrors(socket);
    const address = (socket.localAddress ?? '').replace(/^::ffff:/, '');
    const host = model.hostAt(address);
    if (!host) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    if (host.ssh === 'hang-before-auth') {
      socket.resume(); // read and ignore: the banner never comes
      return;
    }
    serverFor(host).injectSocket(socket);
  });

  const port = await listen(server, options.port ?? 0, options.host ?? '0.0.0.0');
  const knownHostsFile = join(options.stateDir, 'known_hosts');
  await writeFile(knownHostsFile, knownHostsText(model, port, perHost ? hostPairs : undefined, fleetKey), {
    mode: 0o600,
  });

  let closing: Promise<void> | undefined;
  return {
    port,
    clientKeyFile,
    clientPublicKey: client.publicKey,
    knownHostsFile,
    openSockets: () => sockets.size,
    hostKeyBlob: (index) => keyFor(model.host(index)).blob,
    close: () => {
      closing ??= closeServer(server, () => sockets.destroyAll()).then(() => servers.clear());
      return closing;
    },
  };
}

function knownHostsText(
  model: FleetModel,
  port: number,
  hostPairs: readonly Ed25519Pair[] | undefined,
  fleetKey: Ed25519Pair,
): string {
  const keyField = (k: Ed25519Pair) => `ssh-ed25519 ${k.blob.toString('base64')}`;
  const name = (a: string) => (port === 22 ? a : `[${a}]:${port}`);
  if (!hostPairs)
    return `# fleetprobe sim: one key for the fleet\n127.*,[127.*]:${port} ${keyField(fleetKey)}\n`;
  const lines: string[] = ['# fleetprobe sim: one key per host'];
  for (let i = 0; i < model.size; i++)
    lines.push(`${name(model.host(i).address)} ${keyField(hostPairs[i]!)}`);
  return `${lines.join('\n')}\n`;
}

function authenticate(ctx: AuthContext, host: SimHost, accepted: readonly ParsedKey[]): void {
  if (host.ssh === 'auth-refused' || ctx.method !== 'publickey') {
    ctx.reject(['publickey']);
    return;
  }
  const clientPub = accepted.find((k) => ctx.key.algo === k.type && ctx.key.data.equals(k.getPublicSSH()));
  if (!clientPub) {
    ctx.reject(['publickey']);
    return;
  }
  if (ctx.signature && ctx.blob) {
    if (clientPub.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
      ctx.reject(['publickey']);
      return;
    }
  }
  ctx.accept();
}

function runCommand(channel: ServerChannel, host: SimHost, commandLine: string, hugeBytes: number): void {
  channel.on('error', () => {});
  const cmd: SimCommand = parseSimCommand(commandLine, host.index);
  if (host.ssh === 'nonzero-exit') {
    finish(channel, '', 'simulated failure\n', 1);
    return;
  }
  if (host.ssh === 'huge-output') {
    writeHuge(channel, hugeBytes);
    return;
  }
  if (cmd.kind === 'sleep') {
    const timer = setTimeout(() => finish(channel, '', '', 0), cmd.ms);
    channel.once('close', () => clearTimeout(timer));
    return;
  }
  finish(channel, cmd.stdout, cmd.stderr, cmd.exitCode);
}

function finish(channel: ServerChannel, stdout: string, stderr: string, code: number): void {
  if (stdout) channel.write(stdout);
  if (stderr) channel.stderr.write(stderr);
  channel.exit(code);
  channel.end();
}

function writeHuge(channel: ServerChannel, total: number): void {
  const chunk = Buffer.alloc(32 * 1024, 'x');
  let left = total;
  let closed = false;
  channel.once('close', () => {
    closed = true;
  });
  const pump = () => {
    while (!closed && left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!channel.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        channel.once('drain', pump);
        return;
      }
    }
    if (!closed) {
      channel.exit(0);
      channel.end();
    }
  };
  pump();
}
