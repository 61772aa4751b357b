import net from 'node:net';
import { performance } from 'node:perf_hooks';
import ssh2, { type ClientChannel, type ParsedKey } from 'ssh2';
import { installFastVerify } from './fast-sign.js';
import type { KnownHostKey } from './known-hosts.js';
import { blobKeyType } from './known-hosts.js';

// ssh2 is CommonJS: Node's ESM loader does not see its named exports.
const { Client } = ssh2;
installFastVerify();

/** The phases of one SSH command, in order. The deadline reports which one was running when it fired. */
export const SSH_PHASES = ['connect', 'handshake', 'auth', 'exec', 'output'] as const;
export type SshPhase = (typeof SSH_PHASES)[number];

/**
 * Algorithms offered, fastest first for fleet scale (measured in bench/ssh.ts): curve25519 key exchange
 * (one X25519 operation each side; OpenSSH's default sntrup761x25519 costs far more CPU per host), ed25519
 * host keys (cheap verify), AES-GCM (hardware AES, no separate MAC) then chacha20-poly1305. The rest are
 * fallbacks so older servers still connect.
 */
export const FAST_ALGORITHMS = {
  kex: [
    'curve25519-sha256',
    'curve25519-sha256@libssh.org',
    'ecdh-sha2-nistp256',
    'ecdh-sha2-nistp384',
    'diffie-hellman-group14-sha256',
    'diffie-hellman-group16-sha512',
  ],
  serverHostKey: [
    'ssh-ed25519',
    'ecdsa-sha2-nistp256',
    'ecdsa-sha2-nistp384',
    'ecdsa-sha2-nistp521',
    'rsa-sha2-512',
    'rsa-sha2-256',
  ],
  cipher: ['aes128-gcm@openssh.com', 'chacha20-poly1305@openssh.com', 'aes256-gcm@openssh.com', 'aes128-ctr'],
  hmac: ['hmac-sha2-256-etm@openssh.com', 'hmac-sha2-256', 'hmac-sha2-512'],
  compress: ['none'],
} as const;

/** Host key decision: `true` accepts; a string refuses with that (public, key-free) message. */
export type HostKeyVerifier = (key: KnownHostKey) => true | string;

export interface SshExecOptions {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  /** Parsed private keys, tried in order (publickey auth). */
  readonly keys: readonly ParsedKey[];
  /** `SSH_AUTH_SOCK` path: the agent's keys are tried after `keys`. */
  readonly agent?: string;
  readonly verifyHostKey: HostKeyVerifier;
  /** Host key algorithms to prefer (e.g. the types known_hosts lists for this host), ahead of the defaults. */
  readonly preferHostKeyTypes?: readonly string[];
  readonly command: string;
  /** Bytes kept of stdout and of stderr each; the rest is read and discarded until the command exits. */
  readonly maxOutputBytes: number;
  /** Aborting destroys the socket at once, whatever the phase. */
  readonly signal: AbortSignal;
}

/** Milliseconds spent in each phase (present once the phase finished). */
export interface SshTimings {
  connectMs?: number;
  handshakeMs?: number;
  authMs?: number;
  execMs?: number;
  outputMs?: number;
}

interface Common {
  readonly timings: SshTimings;
  /** The host key the server presented (public). */
  readonly hostKey?: KnownHostKey;
}

export type SshOutcome =
  | (Common & {
      readonly kind: 'exited';
      /** Null when the command died of a signal or the server sent no exit status. */
      readonly exitCode: number | null;
      readonly signal: string | null;
      readonly stdout: Buffer;
      readonly stderr: Buffer;
      readonly stdoutTruncated: boolean;
      readonly stderrTruncated: boolean;
    })
  | (Common & {
      readonly kind: 'failed';
      readonly phase: SshPhase;
      readonly reason: 'connect' | 'host-key' | 'auth' | 'protocol' | 'closed' | 'exec';
      /** One line, free of key material. */
      readonly message: string;
    })
  | (Common & { readonly kind: 'aborted'; readonly phase: SshPhase; readonly reason: unknown });

class Capture {
  readonly chunks: Buffer[] = [];
  kept = 0;
  truncated = false;
  constructor(readonly max: number) {}
  push(chunk: Buffer): void {
    const room = this.max - this.kept;
    if (room <= 0) {
      if (chunk.length > 0) this.truncated = true;
      return;
    }
    if (chunk.length > room) {
      this.chunks.push(Buffer.from(chunk.subarray(0, room)));
      this.kept += room;
      this.truncated = true;
    } else {
      this.chunks.push(chunk);
      this.kept += chunk.length;
    }
  }
  value(): Buffer {
    return Buffer.concat(this.chunks, this.kept);
  }
}

/**
 * Runs one command over SSH: TCP connect, handshake, auth, exec, read output until the channel closes.
 *
 * Abort semantics (every phase): stop waiting, destroy the TCP socket immediately (no graceful close: the
 * point is to free the slot), and resolve `{kind:'aborted', phase}`. The ssh2 `Client` keeps an `error`
 * listener for its whole life, so late errors after settling are swallowed, never unhandled.
 * After a normal finish the connection is ended (SSH disconnect + FIN) and the socket destroyed once the
 * FIN is flushed. Never rejects.
 */
export function sshExec(opts: SshExecOptions): Promise<SshOutcome> {
  return new Promise<SshOutcome>((resolve) => {
    const t0 = performance.now();
    let mark = t0;
    const timings: SshTimings = {};
    let phase: SshPhase = 'connect';
    let hostKey: KnownHostKey | undefined;
    let hostKeyRefusal: string | undefined;
    let settled = false;
    const triedMethods: string[] = [];
    const conn = new Client();
    const sock = net.connect({ host: opts.host, port: opts.port, noDelay: true });

    const enter = (next: SshPhase, key: keyof SshTimings) => {
      const now = performance.now();
      timings[key] = round(now - mark);
      mark = now;
      phase = next;
    };

    const closeGracefully = () => {
      if (sock.destroyed) return;
      try {
        conn.end();
      } catch {
        // already ending
      }
      const kill = setTimeout(() => sock.destroy(), 1000);
      kill.unref();
      const done = () => {
        clearTimeout(kill);
        sock.destroy();
      };
      if (sock.writableFinished) done();
      else sock.once('finish', done);
    };

    const settle = (outcome: SshOutcome, graceful: boolean) => {
      if (settled) return;
      settled = true;
      opts.signal.removeEventListener('abort', onAbort);
      if (graceful) closeGracefully();
      else sock.destroy();
      resolve(outcome);
    };

    const fail = (reason: Extract<SshOutcome, { kind: 'failed' }>['reason'], message: string) =>
      settle({ kind: 'failed', phase, reason, message, timings, hostKey }, false);

    function onAbort() {
      settle({ kind: 'aborted', phase, reason: opts.signal.reason, timings, hostKey }, false);
    }

    // Lives as long as the client: ssh2 may emit after we settled (e.g. on the destroyed socket).
    conn.on('error', (err: Error & { level?: string; code?: string }) => {
      if (settled) return;
      if (hostKeyRefusal !== undefined) return fail('host-key', hostKeyRefusal);
      switch (err.level) {
        case 'client-socket':
          return phase === 'connect'
            ? fail('connect', `connect ${err.code ?? err.message}`)
            : fail('closed', `${err.code ?? err.message} during ${phase}`);
        case 'client-authentication':
          return fail('auth', `auth failed (${[...new Set(triedMethods)].join(',') || 'none'})`);
        case 'agent':
          return fail('auth', `agent failed: ${safeMessage(err)}`);
        default:
          return fail(
            'protocol',
            `${phase === 'handshake' ? 'handshake failed' : 'protocol error'}: ${safeMessage(err)}`,
          );
      }
    });
    conn.on('close', () => {
      if (!settled) fail('closed', `connection closed by server during ${phase}`);
    });
    sock.on('error', () => {
      // Reported through the client's 'error' (level client-socket); this keeps it from being unhandled.
    });
    sock.once('connect', () => enter('handshake', 'connectMs'));
    conn.on('handshake', () => enter('auth', 'handshakeMs'));
    conn.on('ready', () => {
      enter('exec', 'authMs');
      conn.exec(opts.command, (err, stream) => {
        if (settled) {
          stream?.destroy();
          return;
        }
        if (err) return fail('exec', `exec refused: ${safeMessage(err)}`);
        enter('output', 'execMs');
        collect(stream);
      });
    });

    const collect = (stream: ClientChannel) => {
      const out = new Capture(opts.maxOutputBytes);
      const errOut = new Capture(opts.maxOutputBytes);
      let exitCode: number | null = null;
      let exitSignal: string | null = null;
      stream.on('data', (c: Buffer) => out.push(c));
      stream.stderr.on('data', (c: Buffer) => errOut.push(c));
      stream.on('exit', (code: number | null, signal?: string) => {
        exitCode = typeof code === 'number' ? code : null;
        exitSignal = signal ?? null;
      });
      stream.on('error', () => {
        // A channel error ends in 'close' (or the connection's 'error'); nothing more to report here.
      });
      stream.on('close', () => {
        if (settled) return;
        const now = performance.now();
        timings.outputMs = round(now - mark);
        settle(
          {
            kind: 'exited',
            exitCode,
            signal: exitSignal,
            stdout: out.value(),
            stderr: errOut.value(),
            stdoutTruncated: out.truncated,
            stderrTruncated: errOut.truncated,
            timings,
            hostKey,
          },
          true,
        );
      });
    };

    const serverHostKey = orderHostKeyAlgorithms(opts.preferHostKeyTypes);
    let keyIndex = 0;
    let agentTried = false;
    try {
      conn.connect({
        sock,
        username: opts.username,
        readyTimeout: 0,
        keepaliveInterval: 0,
        algorithms: {
          kex: [...FAST_ALGORITHMS.kex],
          serverHostKey,
          cipher: [...FAST_ALGORITHMS.cipher],
          hmac: [...FAST_ALGORITHMS.hmac],
          compress: [...FAST_ALGORITHMS.compress],
        } as never,
        hostVerifier: (blob: Buffer) => {
          const type = blobKeyType(blob) ?? 'unknown';
          hostKey = { type, blob: Buffer.from(blob) };
          const verdict = opts.verifyHostKey(hostKey);
          if (verdict === true) return true;
          hostKeyRefusal = verdict;
          return false;
        },
        authHandler: (_methodsLeft, _partial, next) => {
          const key = opts.keys[keyIndex++];
          if (key) {
            triedMethods.push('publickey');
            return next({ type: 'publickey', username: opts.username, key });
          }
          if (opts.agent && !agentTried) {
            agentTried = true;
            triedMethods.push('agent');
            return next({ type: 'agent', username: opts.username, agent: opts.agent });
          }
          return next(false as never);
        },
      });
    } catch (err) {
      fail('protocol', `ssh setup failed: ${safeMessage(err)}`);
      return;
    }
    if (opts.signal.aborted) onAbort();
    else opts.signal.addEventListener('abort', onAbort, { once: true });
  });
}

function orderHostKeyAlgorithms(prefer: readonly string[] | undefined): string[] {
  const all: string[] = [...FAST_ALGORITHMS.serverHostKey];
  if (!prefer || prefer.length === 0) return all;
  const first: string[] = [];
  for (const t of prefer) {
    // An RSA key in known_hosts is typed ssh-rsa but is verified with rsa-sha2-* signatures.
    const algos = t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256'] : [t];
    for (const a of algos) if (all.includes(a) && !first.includes(a)) first.push(a);
  }
  return [...first, ...all.filter((a) => !first.includes(a))];
}

/** ssh2's error messages carry no key material, but keep them one line and bounded anyway. */
function safeMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 200);
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
