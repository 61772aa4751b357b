import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { deriveEd25519 } from '../../src/sim/ssh/keys.js';
import { type Sshd, sshdAvailable, startSshd } from '../../src/sim/ssh/sshd.js';
import { runSsh } from '../sim-ssh/run-ssh.js';

/**
 * Against a real OpenSSH sshd (Debian `openssh-server`), started here on a loopback port with its own
 * config. Few connections on purpose: each costs sshd ~140 ms of CPU.
 */
const available = sshdAvailable();
if (!available) {
  const msg = '/usr/sbin/sshd or ssh-keygen is missing (Debian packages openssh-server, openssh-client)';
  if (process.env.CI === 'true') throw new Error(`${msg}: CI requires them`);
  process.stderr.write(`\n*** SKIPPING real-sshd ssh tests: ${msg} ***\n\n`);
}

const run = promisify(execFile);

describe.skipIf(!available)('ssh check against a real OpenSSH sshd', () => {
  let dir: string;
  let sshd: Sshd;
  let base: Record<string, unknown>;
  let tarpit: net.Server;
  const tarpitSockets = new Set<net.Socket>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fp-sshd-'));
    sshd = await startSshd({ dir: join(dir, 'sshd') });
    const knownHosts = join(dir, 'known_hosts');
    await writeFile(knownHosts, `${sshd.knownHostsLine('127.0.0.1')}\n`);
    base = { identity: sshd.clientKeyFile, knownHosts, user: 'root', port: sshd.port };
    tarpit = net.createServer((s) => {
      tarpitSockets.add(s);
      s.on('error', () => {});
      s.resume(); // read (and drop) the client's banner so its close is seen
      s.once('close', () => tarpitSockets.delete(s));
    });
    await new Promise<void>((r) => tarpit.listen(0, '127.0.0.1', r));
  }, 30_000);

  afterAll(async () => {
    for (const s of tarpitSockets) s.destroy();
    await new Promise((r) => tarpit?.close(r));
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('passes on `true` and fails on `exit 3`', async () => {
    const ok = await runSsh('127.0.0.1', base);
    expect(ok.status, ok.message + sshd.stderrTail()).toBe('pass');
    expect(ok.data?.hostKeyType).toBe('ssh-ed25519');
    const three = await runSsh('127.0.0.1', { ...base, command: 'echo out; echo err >&2; exit 3' });
    expect(three.status).toBe('fail');
    expect(three.data).toMatchObject({ exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
  });

  it('authenticates through an SSH agent when no identity is given', async () => {
    const sock = join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      await vi.waitFor(() => expect(existsSync(sock)).toBe(true), { timeout: 5000, interval: 20 });
      await run('ssh-add', ['-q', sshd.clientKeyFile], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
      const saved = process.env.SSH_AUTH_SOCK;
      process.env.SSH_AUTH_SOCK = sock;
      try {
        const { identity: _none, ...noIdentity } = base;
        const obs = await runSsh('127.0.0.1', noIdentity);
        expect(obs.status, obs.message).toBe('pass');
      } finally {
        if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
        else process.env.SSH_AUTH_SOCK = saved;
      }
    } finally {
      const exited = new Promise((r) => agent.once('exit', r));
      agent.kill('SIGTERM');
      await exited;
    }
  });

  it('errors when the server refuses the key', async () => {
    const other = join(dir, 'other_ed25519');
    await writeFile(other, deriveEd25519(99, 'not-authorized').privateKey, { mode: 0o600 });
    const obs = await runSsh('127.0.0.1', { ...base, identity: other });
    expect(obs.status).toBe('error');
    expect(obs.data?.reason).toBe('auth');
  });

  it('handles an unknown host key under strict / accept-new, then a changed key', async () => {
    const kh = join(dir, 'fresh_known_hosts');
    const strict = await runSsh('127.0.0.1', { ...base, knownHosts: kh });
    expect(strict.status).toBe('error');
    expect(strict.data?.reason).toBe('host-key');
    const added = await runSsh('127.0.0.1', { ...base, knownHosts: kh, hostKeyPolicy: 'accept-new' });
    expect(added.status).toBe('pass');
    expect((await readFile(kh, 'utf8')).trim()).toBe(sshd.knownHostsLine('127.0.0.1'));
    // OpenSSH's own tool finds the line we wrote; after it hashes the file, we still match.
    const found = await run('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', kh]);
    expect(found.stdout).toContain(sshd.hostPublicKey);
    await run('ssh-keygen', ['-H', '-f', kh]);
    expect(await readFile(kh, 'utf8')).toMatch(/^\|1\|/);
    expect((await runSsh('127.0.0.1', { ...base, knownHosts: kh })).status).toBe('pass');
    // Changed key: the file now lists another key for this host.
    await writeFile(kh, `[127.0.0.1]:${sshd.port} ${deriveEd25519(5, 'x').publicKey}\n`);
    for (const policy of ['strict', 'accept-new']) {
      const changed = await runSsh('127.0.0.1', { ...base, knownHosts: kh, hostKeyPolicy: policy });
      expect(changed.status).toBe('error');
      expect(changed.data?.reason).toBe('host-key');
    }
    expect((await runSsh('127.0.0.1', { ...base, knownHosts: kh, hostKeyPolicy: 'off' })).status).toBe(
      'pass',
    );
  });

  it('times out during output on a command that hangs, and the TCP connection to sshd is gone', async () => {
    // `sleep 5`: OpenSSH does not signal a non-pty command when its client disconnects, so the sleep
    // itself may outlive the check by design; what the deadline guarantees is the connection's end.
    const obs = await runSsh('127.0.0.1', { ...base, command: 'sleep 5' }, { timeoutMs: 1500 });
    expect(obs.status).toBe('timeout');
    expect(obs.data?.phase).toBe('output');
    await vi.waitFor(async () => expect(await establishedTo(sshd.port)).toBe(0), {
      timeout: 5000,
      interval: 50,
    });
  });

  it('times out during the handshake on a server that never sends a banner', async () => {
    const port = (tarpit.address() as net.AddressInfo).port;
    const obs = await runSsh('127.0.0.1', { ...base, port }, { timeoutMs: 500 });
    expect(obs.status).toBe('timeout');
    expect(obs.data?.phase).toBe('handshake');
    await vi.waitFor(() => expect(tarpitSockets.size).toBe(0), { timeout: 5000, interval: 20 });
  });
});

/** ESTABLISHED IPv4 TCP connections whose local port is `port` (sshd's side), from /proc/net/tcp. */
async function establishedTo(port: number): Promise<number> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const rows = (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1);
  return rows.filter((r) => {
    const f = r.trim().split(/\s+/);
    return f[1]?.endsWith(`:${hexPort}`) && f[3] === '01';
  }).length;
}
