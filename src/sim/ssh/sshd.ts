import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { delay } from '../../core/deadline.js';
import { FleetprobeError } from '../../core/errors.js';

const run = promisify(execFile);

/** Where Debian's openssh-server puts the daemon. */
export const SSHD_PATH = '/usr/sbin/sshd';

/** Whether a real OpenSSH sshd (Debian package `openssh-server`) and ssh-keygen are installed. */
export function sshdAvailable(): boolean {
  return existsSync(SSHD_PATH) && existsSync('/usr/bin/ssh-keygen');
}

export class SshdStartError extends FleetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FP_SSHD_START', message, options);
  }
}

export interface SshdOptions {
  /** Working directory for keys, config and authorized_keys (created). */
  readonly dir: string;
  /** Default `127.0.0.1`; `0.0.0.0` lets every 127.x.y.z address reach it (bench). */
  readonly host?: string;
  /** Default: a free port picked on loopback. */
  readonly port?: number;
  /** sshd `MaxStartups` (unauthenticated connections before it starts dropping). Default `10:30:100`. */
  readonly maxStartups?: string;
  /** Extra `sshd_config` lines. */
  readonly extraConfig?: readonly string[];
}

export interface Sshd {
  /** The daemon's process id (its per-connection children are reaped by it, so their CPU shows in its
   * `/proc/<pid>/stat` cutime/cstime). */
  readonly pid: number;
  readonly port: number;
  readonly host: string;
  /** A passphrase-less ed25519 key in `authorized_keys`. */
  readonly clientKeyFile: string;
  /** known_hosts line(s) naming `[127.0.0.1]:port` with the daemon's host key. */
  readonly knownHostsLine: (address: string) => string;
  /** The daemon's public host key, `ssh-ed25519 AAAA...`. */
  readonly hostPublicKey: string;
  /** The last lines sshd wrote to stderr (for failure messages). */
  readonly stderrTail: () => string;
  /** SIGTERM the daemon (only the process this started) and wait for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts a real OpenSSH sshd in the foreground (`sshd -D -e -f <dir>/sshd_config`) with its own ed25519
 * host key and a generated client key, `UsePAM no`, `StrictModes no`, `PidFile none`, as the current user
 * (root: sshd requires it for logins). Resolves once the daemon answers with its SSH banner.
 */
export async function startSshd(options: SshdOptions): Promise<Sshd> {
  const { dir } = options;
  const host = options.host ?? '127.0.0.1';
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation directory
  const hostKey = join(dir, 'ssh_host_ed25519_key');
  const clientKeyFile = join(dir, 'client_ed25519');
  for (const f of [hostKey, clientKeyFile]) {
    if (!existsSync(f))
      await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fleetprobe-test', '-f', f]);
  }
  const hostPublicKey = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ');
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKeyFile}.pub`), { mode: 0o600 });
  const port = options.port ?? (await freePort(host === '0.0.0.0' ? '127.0.0.1' : host));
  const config = [
    `Port ${port}`,
    `ListenAddress ${host}`,
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'StrictModes no',
    'UsePAM no',
    'PidFile none',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'UseDNS no',
    'PrintMotd no',
    'PrintLastLog no',
    'LogLevel ERROR',
    `MaxStartups ${options.maxStartups ?? '10:30:100'}`,
    ...(options.extraConfig ?? []),
    '',
  ].join('\n');
  const configFile = join(dir, 'sshd_config');
  await writeFile(configFile, config);
  try {
    await run(SSHD_PATH, ['-t', '-f', configFile]);
  } catch (err) {
    throw new SshdStartError(`sshd rejected its config: ${(err as { stderr?: string }).stderr ?? err}`, {
      cause: err,
    });
  }
  const child = spawn(SSHD_PATH, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    tail = (tail + s).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', () => {});
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  try {
    await waitForBanner(child, host === '0.0.0.0' ? '127.0.0.1' : host, port);
  } catch (err) {
    await stop();
    throw new SshdStartError(`sshd did not start on ${host}:${port}: ${tail.trim() || String(err)}`, {
      cause: err,
    });
  }
  return {
    pid: child.pid!,
    port,
    host,
    clientKeyFile,
    hostPublicKey,
    knownHostsLine: (address) => `[${address}]:${port} ${hostPublicKey}`,
    stderrTail: () => tail,
    stop,
  };
}

/** A port that was free a moment ago on `host` (sshd cannot listen on port 0 and report it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitForBanner(child: ChildProcess, host: string, port: number): Promise<void> {
  const giveUp = Date.now() + 15_000;
  while (Date.now() < giveUp) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('sshd exited');
    if (await bannerSeen(host, port)) return;
    await delay(50);
  }
  throw new Error('no SSH banner within 15 s');
}

function bannerSeen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2000, () => done(false));
    s.once('error', () => done(false));
    s.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
  });
}
