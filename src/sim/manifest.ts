import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { FleetModel, SimHost } from './fleet-model.js';

/** The checks the manifest predicts. `https` is the `http` check with `scheme=https`. */
export const MANIFEST_CHECKS = ['http', 'https', 'tcp', 'dns', 'ssh'] as const;
export type ManifestCheck = (typeof MANIFEST_CHECKS)[number];
export type ExpectedStatus = 'pass' | 'fail' | 'error' | 'timeout';

/** Default per-target timeout the expectations are stated for. */
export const DEFAULT_MANIFEST_TIMEOUT_MS = 2000;

export interface ExpectOptions {
  /** The per-target deadline of the run the expectation is for (`--timeout`). */
  readonly timeoutMs: number;
}

/**
 * The status a run of `check` should give `host`, assuming the check arguments of `manifestCheckArgs()`
 * (they matter: without `expectBody` a wrong body passes; without `expectBanner` a tcp reset races).
 * `slow` hosts pass when twice their latency fits in the timeout, else time out (a margin for a busy
 * machine; the latency is uniform in the profile's slow range, default 50..400 ms).
 */
export function expectedStatus(
  host: SimHost,
  check: ManifestCheck,
  { timeoutMs }: ExpectOptions,
): ExpectedStatus {
  switch (check) {
    case 'http':
      return httpExpect(host, timeoutMs);
    case 'https': {
      // Connection-level faults act before TLS; after a handshake the certificate decides first.
      if (host.http === 'tarpit') return 'timeout';
      if (host.http === 'reset' || host.http === 'refused' || host.http === 'garbage') return 'error';
      if (host.tls !== 'healthy') return 'error';
      return httpExpect(host, timeoutMs);
    }
    case 'tcp':
      switch (host.tcp) {
        case 'healthy':
          return 'pass';
        case 'tarpit':
          return 'timeout'; // connects, but the banner never comes
        case 'reset':
        case 'refused':
          return 'error';
        default:
          return host.tcp satisfies never;
      }
    case 'dns':
      switch (host.dns) {
        case 'healthy':
        case 'truncated': // TC over UDP, the full answer over TCP
          return 'pass';
        case 'nxdomain':
        case 'wrong-address':
          return 'fail';
        case 'servfail':
          return 'error';
        case 'no-reply':
          return 'timeout';
        default:
          return host.dns satisfies never;
      }
    case 'ssh':
      switch (host.ssh) {
        case 'healthy':
        case 'huge-output': // captured capped
          return 'pass';
        case 'wrong-host-key':
        case 'auth-refused':
          return 'error';
        case 'hang-before-auth':
        case 'hang-after-auth':
          return 'timeout';
        case 'nonzero-exit':
          return 'fail';
        default:
          return host.ssh satisfies never;
      }
    default:
      return check satisfies never;
  }
}

function httpExpect(host: SimHost, timeoutMs: number): ExpectedStatus {
  switch (host.http) {
    case 'healthy':
      return 'pass';
    case 'slow':
      return host.latencyMs * 2 <= timeoutMs ? 'pass' : 'timeout';
    case 'tarpit':
    case 'drip-body': // 1000 bytes at one a second
      return 'timeout';
    case 'reset':
    case 'refused':
    case 'garbage':
      return 'error';
    case 'http5xx':
    case 'wrong-body':
    case 'endless-body': // the first maxBytes do not match expectBody
      return 'fail';
    default:
      return host.http satisfies never;
  }
}

/** Where the sim listens, for the check arguments the manifest states. */
export interface ManifestContext {
  readonly timeoutMs: number;
  readonly ports: {
    readonly http?: number;
    readonly https?: number;
    readonly tcp?: number;
    readonly dns?: number;
    readonly ssh?: number;
  };
  readonly caFile?: string;
  readonly clientKeyFile?: string;
  readonly knownHostsFile?: string;
}

/**
 * The `fleetprobe run` arguments the expectations assume, per check. Targets are the manifest's hosts
 * with their names (use the manifest as a `.jsonl` targets file), so HTTPS sends SNI `h<i>.<zone>` and
 * the DNS check asks each target for its own name.
 */
export function manifestCheckArgs(ctx: ManifestContext): Record<ManifestCheck, Record<string, unknown>> {
  return {
    http: { port: ctx.ports.http, expectStatus: '2xx', expectBody: '^ok h[0-9]+' },
    https: {
      scheme: 'https',
      port: ctx.ports.https,
      ...(ctx.caFile ? { ca: ctx.caFile } : {}),
      expectStatus: '2xx',
      expectBody: '^ok h[0-9]+',
    },
    tcp: { port: ctx.ports.tcp, expectBanner: '^fleetprobe-sim h[0-9]+' },
    // Asked through one server (the sim's wildcard UDP socket answers from 127.0.0.1, so a target asked
    // at its own address would reply from another address, and the client rightly drops such replies);
    // the question is each target's own name, the answer must be its own address.
    dns: { server: `127.0.0.1:${ctx.ports.dns}`, type: 'A', expect: '<address>' },
    ssh: {
      port: ctx.ports.ssh,
      user: 'fleetprobe',
      command: 'echo ok',
      ...(ctx.clientKeyFile ? { identity: ctx.clientKeyFile } : {}),
      ...(ctx.knownHostsFile ? { knownHosts: ctx.knownHostsFile } : {}),
      hostKeyPolicy: 'strict',
      expectExit: 0,
    },
  };
}

/** One manifest line (JSONL) / element of `hosts` (JSON). */
export interface ManifestEntry {
  readonly address: string;
  readonly name: string;
  readonly index: number;
  readonly profile: {
    readonly http: string;
    readonly tls: string;
    readonly tcp: string;
    readonly dns: string;
    readonly ssh: string;
    readonly latencyMs: number;
  };
  readonly expect: Record<ManifestCheck, ExpectedStatus>;
  readonly timeoutMs: number;
}

export function manifestEntry(host: SimHost, timeoutMs: number): ManifestEntry {
  const o = { timeoutMs };
  return {
    address: host.address,
    name: host.name,
    index: host.index,
    profile: {
      http: host.http,
      tls: host.tls,
      tcp: host.tcp,
      dns: host.dns,
      ssh: host.ssh,
      latencyMs: host.latencyMs,
    },
    expect: {
      http: expectedStatus(host, 'http', o),
      https: expectedStatus(host, 'https', o),
      tcp: expectedStatus(host, 'tcp', o),
      dns: expectedStatus(host, 'dns', o),
      ssh: expectedStatus(host, 'ssh', o),
    },
    timeoutMs,
  };
}

/**
 * Writes the manifest, streamed (bounded memory at any N, honouring backpressure): `*.jsonl` gets one
 * `ManifestEntry` per line; anything else gets one JSON object `{timeoutMs, zone, checks, hosts: [...]}`.
 */
export async function writeManifest(
  model: FleetModel,
  file: string,
  ctx: ManifestContext,
  signal?: AbortSignal,
): Promise<void> {
  const out = createWriteStream(file);
  const jsonl = file.endsWith('.jsonl');
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain', signal ? { signal } : {});
  };
  try {
    if (!jsonl) {
      const head = {
        timeoutMs: ctx.timeoutMs,
        zone: model.zone,
        base: model.base,
        size: model.size,
        seed: model.seed,
      };
      await write(
        `${JSON.stringify(head).slice(0, -1)},"checks":${JSON.stringify(manifestCheckArgs(ctx))},"hosts":[\n`,
      );
    }
    for (let i = 0; i < model.size; i++) {
      signal?.throwIfAborted();
      const line = JSON.stringify(manifestEntry(model.host(i), ctx.timeoutMs));
      await write(jsonl ? `${line}\n` : `${line}${i + 1 < model.size ? ',' : ''}\n`);
    }
    if (!jsonl) await write(']}\n');
    out.end();
    await once(out, 'finish');
  } catch (err) {
    out.destroy();
    throw err;
  }
}
