import type { Command } from 'commander';
import { parseDurationMs } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { parseIntOption } from '../core/number-options.js';
import { intToIpv4 } from './ipv4.js';
import { DEFAULT_MANIFEST_TIMEOUT_MS, manifestCheckArgs, writeManifest } from './manifest.js';
import {
  DEFAULT_SIM_PORTS,
  SIM_SERVICES,
  type SimService,
  type Simulator,
  startSimulator,
} from './simulator.js';
import { writeTargetsFile } from './targets-file.js';

interface SimFlags {
  hosts: string;
  base: string;
  seed: string;
  profile: string;
  zone: string;
  manifest?: string;
  manifestTimeout: string;
  targets?: string;
  httpPort: string;
  httpsPort: string;
  tcpPort: string;
  dnsPort: string;
  sshPort: string;
  bind: string;
  stateDir?: string;
  protocols?: string;
  control?: string;
  json?: boolean;
}

/** What `fleetprobe sim` prints once it is ready (`--json`: this object, one line on stdout). */
export interface SimReadyInfo {
  readonly hosts: number;
  readonly first: string;
  readonly last: string;
  readonly zone: string;
  readonly seed: number;
  readonly bind: string;
  readonly ports: Simulator['ports'];
  readonly caFile?: string;
  readonly clientKeyFile?: string;
  readonly knownHostsFile?: string;
  readonly stateDir: string;
  /** Port of the control endpoint on 127.0.0.1 (`--control`). */
  readonly control?: number;
  readonly manifest?: string;
  readonly targets?: string;
  readonly timeoutMs: number;
  readonly checkArgs: Record<string, Record<string, unknown>>;
  readonly pid: number;
}

function parseProtocols(value: string | undefined): readonly SimService[] | undefined {
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of list) {
    if (!(SIM_SERVICES as readonly string[]).includes(p)) {
      throw new UsageError(`--protocols: unknown protocol "${p}" (${SIM_SERVICES.join(', ')})`);
    }
  }
  return list as SimService[];
}

/** `fleetprobe sim`: a simulated fleet on loopback until SIGINT/SIGTERM (then exit 0). */
export function simCommand(program: Command): void {
  program
    .command('sim')
    .description('start a simulated fleet on loopback (one listener per protocol serves every host address)')
    .option('--hosts <n>', 'number of hosts', '1000')
    .option('--base <ipv4>', 'first host address (inside 127.0.0.0/8)', '127.20.0.0')
    .option('--seed <n>', 'PRNG seed: same seed and profile, same faults', '1')
    .option('--profile <name|file>', 'healthy | mixed | a JSON profile file', 'healthy')
    .option('--zone <name>', 'DNS zone: host i is h<i>.<zone>', 'fleet.test')
    .option('--manifest <path>', 'write expectations per host (.jsonl: one per line; else one JSON object)')
    .option(
      '--manifest-timeout <duration>',
      'per-target timeout the manifest expectations assume',
      `${DEFAULT_MANIFEST_TIMEOUT_MS}ms`,
    )
    .option('--targets <path>', 'write a JSONL targets file (address, name) for fleetprobe run -f')
    .option('--http-port <port>', 'HTTP port', String(DEFAULT_SIM_PORTS.http))
    .option('--https-port <port>', 'HTTPS port', String(DEFAULT_SIM_PORTS.https))
    .option('--tcp-port <port>', 'TCP port', String(DEFAULT_SIM_PORTS.tcp))
    .option('--dns-port <port>', 'DNS port (UDP and TCP)', String(DEFAULT_SIM_PORTS.dns))
    .option('--ssh-port <port>', 'SSH port', String(DEFAULT_SIM_PORTS.ssh))
    .option('--bind <address>', 'listen address of every protocol', '0.0.0.0')
    .option('--protocols <list>', `comma-separated subset of ${SIM_SERVICES.join(',')} (default all)`)
    .option(
      '--control <port>',
      'control endpoint on 127.0.0.1: GET/POST/DELETE /faults switch fault profiles while the sim runs',
    )
    .option('--state-dir <dir>', 'where the CA and keys go (default: a temp dir removed on exit)')
    .option('--json', 'print the ready info as one JSON line on stdout')
    .action(async (flags: SimFlags) => {
      await runSim(flags);
    });
}

async function runSim(flags: SimFlags): Promise<void> {
  const hosts = parseIntOption(flags.hosts, '--hosts', 1, 16_777_216);
  const seed = parseIntOption(flags.seed, '--seed', 0, 0xffffffff);
  const timeoutMs = parseDurationMs(flags.manifestTimeout, '--manifest-timeout');
  const port = (v: string, f: string) => parseIntOption(v, f, 0, 65535);
  const protocols = parseProtocols(flags.protocols);
  const controlPort = flags.control !== undefined ? port(flags.control, '--control') : undefined;
  const stop = new AbortController();
  const onSignal = () => stop.abort(new UsageError('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let sim: Simulator | undefined;
  try {
    sim = await startSimulator({
      hosts,
      base: flags.base,
      seed,
      zone: flags.zone,
      profile: flags.profile,
      bind: flags.bind,
      ports: {
        http: port(flags.httpPort, '--http-port'),
        https: port(flags.httpsPort, '--https-port'),
        tcp: port(flags.tcpPort, '--tcp-port'),
        dns: port(flags.dnsPort, '--dns-port'),
        ssh: port(flags.sshPort, '--ssh-port'),
      },
      ...(protocols ? { protocols } : {}),
      controlPort,
      ...(flags.stateDir ? { stateDir: flags.stateDir } : {}),
      signal: stop.signal,
    });
    const ctx = {
      timeoutMs,
      ports: sim.ports,
      ...(sim.caFile ? { caFile: sim.caFile } : {}),
      ...(sim.clientKeyFile ? { clientKeyFile: sim.clientKeyFile } : {}),
      ...(sim.knownHostsFile ? { knownHostsFile: sim.knownHostsFile } : {}),
    };
    if (flags.manifest) await writeManifest(sim.model, flags.manifest, ctx, stop.signal);
    if (flags.targets) await writeTargetsFile(sim.model, flags.targets, stop.signal);
    const base = sim.model.base;
    const info: SimReadyInfo = {
      hosts: sim.model.size,
      first: base,
      last: lastAddress(base, sim.model.size),
      zone: sim.model.zone,
      seed: sim.model.seed,
      bind: sim.bind,
      ports: sim.ports,
      ...(sim.caFile ? { caFile: sim.caFile } : {}),
      ...(sim.clientKeyFile ? { clientKeyFile: sim.clientKeyFile } : {}),
      ...(sim.knownHostsFile ? { knownHostsFile: sim.knownHostsFile } : {}),
      stateDir: sim.stateDir,
      ...(sim.controlPort !== undefined ? { control: sim.controlPort } : {}),
      ...(flags.manifest ? { manifest: flags.manifest } : {}),
      ...(flags.targets ? { targets: flags.targets } : {}),
      timeoutMs,
      checkArgs: manifestCheckArgs(ctx),
      pid: process.pid,
    };
    if (flags.json) process.stdout.write(`${JSON.stringify(info)}\n`);
    process.stderr.write(describe(info));
    await new Promise<void>((resolve) => {
      if (stop.signal.aborted) resolve();
      else stop.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    process.stderr.write('fleetprobe sim: stopping\n');
  } catch (err) {
    if (!stop.signal.aborted) throw err; // interrupted while starting or writing: a clean stop
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await sim?.close();
  }
  process.exitCode = 0;
}

function lastAddress(base: string, size: number): string {
  const [a, b, c, d] = base.split('.').map(Number) as [number, number, number, number];
  return intToIpv4(((a << 24) >>> 0) + (b << 16) + (c << 8) + d + size - 1);
}

function describe(info: SimReadyInfo): string {
  const lines = [
    `fleetprobe sim: ${info.hosts} hosts ${info.first} .. ${info.last} (h0 .. h${info.hosts - 1}.${info.zone}), seed ${info.seed}`,
  ];
  for (const [proto, port] of Object.entries(info.ports))
    lines.push(`  ${proto.padEnd(5)} ${info.bind}:${port}`);
  if (info.caFile) lines.push(`  CA file          ${info.caFile}`);
  if (info.clientKeyFile) lines.push(`  SSH client key   ${info.clientKeyFile}`);
  if (info.knownHostsFile) lines.push(`  SSH known_hosts  ${info.knownHostsFile}`);
  if (info.control !== undefined) {
    lines.push(
      `  control          http://127.0.0.1:${info.control}/faults (POST {"range","fault"}; DELETE resets)`,
    );
  }
  if (info.manifest) {
    lines.push(`  manifest         ${info.manifest} (timeout ${info.timeoutMs} ms; a snapshot at start)`);
  }
  if (info.targets) lines.push(`  targets file     ${info.targets}`);
  lines.push('  Ctrl-C to stop', '');
  return lines.join('\n');
}
