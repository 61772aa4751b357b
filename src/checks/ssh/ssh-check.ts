import { homedir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import { DeadlineError, describeError, isFleetprobeError } from '../../core/errors.js';
import type { Target } from '../../targets/target.js';
import { defineCheck, type Observation } from '../check.js';
import { patternArg } from '../pattern.js';
import type { identityCache } from './identity.js';
import {
  fingerprintSha256,
  formatKnownHostsLine,
  type KnownHostKey,
  type KnownHosts,
  knownHostsName,
} from './known-hosts.js';
import { knownHostsStore } from './known-hosts-store.js';
import type { SshOutcome } from './ssh-session.js';

let runtime: Promise<typeof import('./ssh-runtime.js')> | undefined;
/** ssh2 and what uses it, loaded on the first ssh check (a run of any other check never loads it). */
const loadSshRuntime = () => {
  runtime ??= import('./ssh-runtime.js');
  return runtime;
};

export const HOST_KEY_POLICIES = ['strict', 'accept-new', 'off'] as const;
export type HostKeyPolicy = (typeof HOST_KEY_POLICIES)[number];

const boolish = z.union([
  z.boolean(),
  z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => /^(true|1|yes)$/.test(v)),
]);

/** Arguments of the `ssh` check. CLI strings are coerced (`-a port=2222`). */
export const sshArgs = z.object({
  /** Command run by the remote user's shell. */
  command: z.string().min(1).default('true'),
  /** Remote user; default `$USER`, else `root`. */
  user: z
    .string()
    .min(1)
    .default(() => process.env.USER ?? 'root'),
  /** Port when the target has none (the target's port wins). */
  port: z.coerce.number().int().min(1).max(65535).default(22),
  /** Private key path, or a comma-separated list tried in order. Read once per file and cached. */
  identity: z
    .union([z.string(), z.array(z.string())])
    .optional()
    .transform((v) =>
      v === undefined
        ? []
        : (Array.isArray(v) ? v : v.split(','))
            .map((s) => s.trim())
            .filter(Boolean)
            .map(expandHome),
    ),
  /** Name of an environment variable holding the identity's passphrase (the value is never echoed). */
  passphraseEnv: z.string().min(1).optional(),
  /** Use the SSH agent at `$SSH_AUTH_SOCK`. Default: only when no identity is given. */
  agent: boolish.optional(),
  /** known_hosts file; default `~/.ssh/known_hosts`. */
  knownHosts: z
    .string()
    .min(1)
    .default(() => join(homedir(), '.ssh', 'known_hosts'))
    .transform(expandHome),
  /** `strict`: only listed keys; `accept-new`: add unknown hosts, refuse changed keys; `off`: accept any. */
  hostKeyPolicy: z.enum(HOST_KEY_POLICIES).default('strict'),
  /** Exit status that passes. */
  expectExit: z.coerce.number().int().min(0).max(255).default(0),
  /** Pattern (RE2) the captured stdout must match; multiline (`^`/`$` match at line ends, as grep does). */
  expectStdout: patternArg({ multiline: true }).optional(),
  /** Bytes kept of stdout and of stderr each (default 64 KiB); further output is read and discarded. */
  maxOutputBytes: z.coerce
    .number()
    .int()
    .min(0)
    .default(64 * 1024),
});

export type SshArgs = z.output<typeof sshArgs>;

/**
 * `ssh`: runs a command on each target over SSH (ssh2) and checks its exit status and stdout.
 *
 * Status: `pass` exit == expectExit and stdout matches; `fail` the command ran but did not meet the
 * expectations ("exit 3, expected 0"); `error` connect/handshake/host key/auth failures; `timeout` the
 * deadline fired, with the phase that was running ("deadline 2000 ms exceeded during auth"): the socket is
 * destroyed at once. Keys and passphrases never appear in results, logs or errors (only fingerprints).
 */
export const sshCheck = defineCheck({
  name: 'ssh',
  description: 'run a command over SSH and check its exit status and output',
  args: sshArgs,
  timeoutMs: 10_000,
  defaultPort: 22,
  argRoles: {
    identity: 'sshIdentity',
    knownHosts: 'knownHosts',
    agent: 'serverAgent',
    passphraseEnv: 'serverEnv',
    expectStdout: 'pattern',
  },
  async run(target, args, ctx): Promise<Observation> {
    const host = target.address ?? target.name;
    if (!host) return { status: 'error', message: 'target has no address' };
    const port = target.port ?? args.port;
    const { identityCache, sshExec } = await loadSshRuntime();
    const pre = await prepare(identityCache, target, port, args, ctx.signal).catch((err: unknown) => err);
    if (!(pre instanceof Prepared)) {
      if (ctx.signal.aborted) return deadlineObservation(ctx.signal.reason, ctx.timeoutMs, 'connect', {});
      return {
        status: 'error',
        message: isFleetprobeError(pre) ? pre.message : `ssh setup: ${describeError(pre)}`,
      };
    }
    const outcome = await sshExec({
      host,
      port,
      username: args.user,
      keys: pre.keys,
      agent: pre.agent,
      verifyHostKey: pre.verify,
      preferHostKeyTypes: pre.knownTypes,
      command: args.command,
      maxOutputBytes: args.maxOutputBytes,
      signal: ctx.signal,
    });
    // The accept-new append was started during the handshake; it is awaited here so no write outlives
    // the check, and a write failure becomes part of the result.
    const appendError = await pre.appended().then(
      () => undefined,
      (err: unknown) => err,
    );
    const obs = toObservation(outcome, args, ctx.timeoutMs);
    if (appendError !== undefined && obs.status !== 'timeout') {
      return {
        status: 'error',
        message: `cannot record host key in ${args.knownHosts}: ${describeError(appendError)}`,
        data: obs.data,
      };
    }
    if (pre.note && obs.data) obs.data.note = pre.note;
    if (obs.status !== 'pass') {
      // Only public facts: target, status, phase, message (never keys, passphrases or output).
      ctx.log.debug(
        { target: host, port, status: obs.status, phase: obs.data?.phase, message: obs.message },
        'ssh check',
      );
    }
    return obs;
  },
});

class Prepared {
  constructor(
    readonly keys: Awaited<ReturnType<typeof identityCache.load>>[],
    readonly agent: string | undefined,
    readonly verify: (key: KnownHostKey) => true | string,
    readonly knownTypes: string[],
    readonly appended: () => Promise<void>,
    readonly note: string | undefined,
  ) {}
}

async function prepare(
  identities: typeof identityCache,
  target: Target,
  port: number,
  args: SshArgs,
  signal: AbortSignal,
): Promise<Prepared> {
  const passphrase = args.passphraseEnv ? process.env[args.passphraseEnv] : undefined;
  const keys = await Promise.all(args.identity.map((p) => identities.load(p, passphrase, signal)));
  const sockPath = process.env.SSH_AUTH_SOCK;
  const agent = (args.agent ?? keys.length === 0) && sockPath ? sockPath : undefined;
  if (keys.length === 0 && !agent) {
    throw new Error(
      args.agent ? 'agent requested but SSH_AUTH_SOCK is not set' : 'no identity given and no SSH agent',
    );
  }
  const names = [...new Set([target.name, target.address].filter((n): n is string => !!n))].map((n) =>
    knownHostsName(n, port),
  );
  const recordAs = target.name ?? target.address ?? '';
  let append: Promise<void> = Promise.resolve();
  if (args.hostKeyPolicy === 'off') {
    return new Prepared(
      keys,
      agent,
      () => true,
      [],
      () => append,
      undefined,
    );
  }
  const hosts: KnownHosts = await knownHostsStore.load(args.knownHosts, signal);
  const note =
    hosts.ignoredCertAuthorities > 0
      ? `${hosts.ignoredCertAuthorities} @cert-authority line(s) ignored (host certificates unsupported)`
      : undefined;
  const knownTypes = [...new Set(hosts.keysFor(names).map((k) => k.type))];
  // Messages name no host or fingerprint: identical outcomes must fold together in the summary; the
  // target is in the result and the presented key's fingerprint in its data.
  const verify = (key: KnownHostKey): true | string => {
    const verdict = hosts.verify(names, key);
    switch (verdict) {
      case 'match':
        return true;
      case 'revoked':
        return `revoked host key (${key.type})`;
      case 'mismatch':
        return `host key mismatch (${key.type})`;
      case 'unknown':
        if (args.hostKeyPolicy === 'strict') return 'unknown host key (strict)';
        append = knownHostsStore.append(
          args.knownHosts,
          formatKnownHostsLine(recordAs, port, key),
          hosts,
          () => hosts.verify(names, key) === 'match',
        );
        // Awaited by run(); never left unobserved even if run() is torn down first.
        append.catch(() => {});
        return true;
      default:
        return verdict satisfies never;
    }
  };
  return new Prepared(keys, agent, verify, knownTypes, () => append, note);
}

function toObservation(outcome: SshOutcome, args: SshArgs, timeoutMs: number): Observation {
  const data: Record<string, unknown> = { ...outcome.timings };
  if (outcome.hostKey) {
    data.hostKeyType = outcome.hostKey.type;
    data.hostKeyFingerprint = fingerprintSha256(outcome.hostKey.blob);
  }
  switch (outcome.kind) {
    case 'aborted':
      return deadlineObservation(outcome.reason, timeoutMs, outcome.phase, data);
    case 'failed':
      data.phase = outcome.phase;
      data.reason = outcome.reason;
      return { status: 'error', message: outcome.message, data };
    case 'exited': {
      const stdout = outcome.stdout.toString('utf8');
      Object.assign(data, {
        exitCode: outcome.exitCode,
        signal: outcome.signal,
        stdout,
        stderr: outcome.stderr.toString('utf8'),
        stdoutTruncated: outcome.stdoutTruncated,
        stderrTruncated: outcome.stderrTruncated,
      });
      if (outcome.exitCode === null) {
        const why = outcome.signal ? `killed by ${outcome.signal}` : 'no exit status';
        return { status: 'fail', message: `${why}, expected exit ${args.expectExit}`, data };
      }
      if (outcome.exitCode !== args.expectExit) {
        return {
          status: 'fail',
          message: `exit ${outcome.exitCode}, expected ${args.expectExit}`,
          reason: `exit <exitCode>, expected ${args.expectExit}`,
          data,
        };
      }
      if (args.expectStdout !== undefined && !args.expectStdout.test(stdout)) {
        return { status: 'fail', message: `stdout does not match ${args.expectStdout}`, data };
      }
      return { status: 'pass', message: `exit ${outcome.exitCode}`, data };
    }
    default:
      return outcome satisfies never;
  }
}

function deadlineObservation(
  reason: unknown,
  timeoutMs: number,
  phase: string,
  data: Record<string, unknown>,
): Observation {
  data.phase = phase;
  const isTimeout =
    reason instanceof DeadlineError || (reason instanceof Error && reason.name === 'TimeoutError'); // AbortSignal.timeout()
  if (isTimeout) {
    const ms = reason instanceof DeadlineError ? reason.timeoutMs : timeoutMs;
    return { status: 'timeout', message: `deadline ${ms} ms exceeded during ${phase}`, data };
  }
  // Cancelled (or any other abort): rethrow the reason unchanged so the engine classifies it.
  throw reason;
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}
