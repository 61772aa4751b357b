/**
 * SSH fan-out benchmark: `true` on N loopback hosts (default 2,000), fleetprobe's `ssh` check side by side
 * with pdsh, clush (ClusterShell), parallel-ssh and `ansible -m raw`, against
 *   (a) one real OpenSSH sshd on 0.0.0.0:<port> (every 127.x address reaches it), and
 *   (b) the simulator's ssh2 server in a separate process (nothing forked per connection).
 * Reports wall time, hosts/s and client CPU per host (fleetprobe: process.cpuUsage of this process, which
 * runs only the client; peers: the CPU of the tool and every ssh it forked, from bash `times`), plus
 * sshd's CPU per connection and the issue's targets.
 *
 *   npx tsx bench/ssh.ts [--hosts 2000] [--peers pdsh,clush,pssh,ansible|none] [--skip-sshd] [--skip-sim]
 *     [--concurrency-sshd 16] [--concurrency-sim 128]        fleetprobe's concurrency (lists sweep: 8,16,32)
 *     [--peer-fanout-sshd 16] [--peer-fanout-sim 64]         the peers' fanout (lists sweep; best is kept)
 *     [--json out.json]
 *
 * Defaults are the best values of a sweep on this 2-core machine (200 hosts): against one sshd, more
 * connections in flight only add contention (sshd's CPU per connection grows with it), so 16 is best for
 * every tool; against the sim, 64 for the peers and 128 for fleetprobe.
 * Peer runs against sshd take ~5 minutes each at 2,000 hosts: use --hosts 200 to validate quickly.
 * Loopback only. Cleans up sshd, the sim process and every peer process group on exit.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { sshCheck } from '../src/checks/ssh/index.js';
import { startRun } from '../src/engine/run.js';
import { createFleetModel } from '../src/sim/fleet.js';
import { startSimSshServer } from '../src/sim/ssh/ssh-server.js';
import { type Sshd, sshdAvailable, startSshd } from '../src/sim/ssh/sshd.js';
import { benchArgs, benchIntList, benchNumber, benchUsageError } from './lib/index.js';
import { processAndReapedCpuSeconds } from './lib/proc-cpu.js';

const BASE = [127, 30, 0, 1] as const;
const ALL_PEERS = ['pdsh', 'clush', 'pssh', 'ansible'] as const;
type Peer = (typeof ALL_PEERS)[number];

interface Flags {
  hosts: number;
  peers: Peer[];
  fanout: { sshd: number[]; sim: number[] };
  concurrency: { sshd: number[]; sim: number[] };
  skipSshd: boolean;
  skipSim: boolean;
  json: string | undefined;
}

function parseFlags(): Flags {
  const v = benchArgs(import.meta.url, {
    hosts: { type: 'string', default: '2000' },
    peers: { type: 'string', default: ALL_PEERS.join(',') },
    'peer-fanout-sshd': { type: 'string', default: '16' },
    'peer-fanout-sim': { type: 'string', default: '64' },
    'concurrency-sshd': { type: 'string', default: '16' },
    'concurrency-sim': { type: 'string', default: '128' },
    'skip-sshd': { type: 'boolean', default: false },
    'skip-sim': { type: 'boolean', default: false },
    json: { type: 'string' },
  });
  const peers = v.peers
    .split(',')
    .filter(Boolean)
    .map((p) => (p === 'parallel-ssh' ? 'pssh' : p)) as Peer[];
  for (const p of peers)
    if (p !== ('none' as string) && !ALL_PEERS.includes(p))
      benchUsageError(import.meta.url, `--peers: unknown peer ${p}`);
  return {
    hosts: benchNumber(import.meta.url, 'hosts', v.hosts),
    peers: v.peers === 'none' ? [] : peers,
    fanout: {
      sshd: benchIntList(import.meta.url, 'peer-fanout-sshd', v['peer-fanout-sshd']),
      sim: benchIntList(import.meta.url, 'peer-fanout-sim', v['peer-fanout-sim']),
    },
    concurrency: {
      sshd: benchIntList(import.meta.url, 'concurrency-sshd', v['concurrency-sshd']),
      sim: benchIntList(import.meta.url, 'concurrency-sim', v['concurrency-sim']),
    },
    skipSshd: v['skip-sshd'],
    skipSim: v['skip-sim'],
    json: v.json,
  };
}

function address(i: number): string {
  const n = ((BASE[0] << 24) >>> 0) + (BASE[1] << 16) + (BASE[2] << 8) + BASE[3] + i;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

interface Row {
  server: string;
  tool: string;
  fanout: number;
  hosts: number;
  ok: number;
  wallS: number;
  hostsPerS: number;
  clientCpuMsPerHost: number;
  serverCpuMsPerHost?: number;
}

interface Endpoint {
  name: 'sshd' | 'sim';
  port: number;
  key: string;
  knownHosts: string;
  serverCpuS?: () => number;
}

// ---------------------------------------------------------------- fleetprobe

async function runOurs(ep: Endpoint, hosts: number, concurrency: number): Promise<Row> {
  const args = sshCheck.args.parse({
    command: 'true',
    user: 'root',
    port: ep.port,
    identity: ep.key,
    knownHosts: ep.knownHosts,
    hostKeyPolicy: 'strict',
  });
  async function* targets() {
    for (let i = 0; i < hosts; i++) yield { address: address(i), labels: {} };
  }
  const srv0 = ep.serverCpuS?.();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const run = startRun({
    check: sshCheck,
    args,
    targets: targets(),
    total: hosts,
    concurrency,
    timeoutMs: 60_000,
  });
  let ok = 0;
  const other = new Map<string, number>();
  for await (const r of run.results()) {
    if (r.status === 'pass') ok++;
    else other.set(r.message, (other.get(r.message) ?? 0) + 1);
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (other.size > 0) console.error(`  fleetprobe non-pass: ${JSON.stringify([...other].slice(0, 5))}`);
  return {
    server: ep.name,
    tool: 'fleetprobe',
    fanout: concurrency,
    hosts,
    ok,
    wallS,
    hostsPerS: hosts / wallS,
    clientCpuMsPerHost: (cpu.user + cpu.system) / 1000 / hosts,
    serverCpuMsPerHost: srv0 === undefined ? undefined : ((ep.serverCpuS!() - srv0) * 1000) / hosts,
  };
}

// ---------------------------------------------------------------- peers

const live = new Set<ChildProcess>();

function peerCommand(
  peer: Peer,
  ep: Endpoint,
  dir: string,
  fanout: number,
): { cmd: string[]; env: NodeJS.ProcessEnv; count: (out: string, hosts: number) => number } {
  const sshOpts = [
    `-p ${ep.port}`,
    `-i ${ep.key}`,
    '-o StrictHostKeyChecking=no',
    '-o UserKnownHostsFile=/dev/null',
    '-o BatchMode=yes',
    '-o LogLevel=ERROR',
    '-o ConnectTimeout=60',
  ].join(' ');
  const hostfile = join(dir, 'hosts');
  const failures = (out: string, hosts: number) =>
    hosts - (out.match(/exited with exit code|timed out/g)?.length ?? 0);
  switch (peer) {
    case 'pdsh':
      return {
        cmd: ['pdsh', '-R', 'ssh', '-l', 'root', '-f', String(fanout), '-w', `^${hostfile}`, 'true'],
        env: { PDSH_SSH_ARGS_APPEND: sshOpts },
        count: failures,
      };
    case 'clush':
      return {
        cmd: ['clush', '--hostfile', hostfile, '-l', 'root', '-f', String(fanout), '-o', sshOpts, 'true'],
        env: {},
        count: failures,
      };
    case 'pssh':
      return {
        cmd: [
          'parallel-ssh',
          '-h',
          hostfile,
          '-l',
          'root',
          '-p',
          String(fanout),
          '-t',
          '0',
          '-x',
          sshOpts,
          'true',
        ],
        env: {},
        count: (out) => out.match(/\[SUCCESS\]/g)?.length ?? 0,
      };
    case 'ansible':
      return {
        cmd: [
          'ansible',
          'all',
          '-i',
          join(dir, 'inventory.ini'),
          '-m',
          'raw',
          '-a',
          'true',
          '-f',
          String(fanout),
        ],
        env: {
          ANSIBLE_HOST_KEY_CHECKING: 'False',
          // No ControlPersist masters left behind for 2,000 hosts: one plain ssh per host, like the others.
          ANSIBLE_SSH_ARGS: '-o ControlMaster=no',
          ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-tmp'),
          ANSIBLE_NOCOLOR: '1',
        },
        count: (out) => out.match(/\| (CHANGED|SUCCESS)/g)?.length ?? 0,
      };
    default:
      return peer satisfies never;
  }
}

async function runPeer(peer: Peer, ep: Endpoint, dir: string, hosts: number, fanout: number): Promise<Row> {
  const hostLines = Array.from({ length: hosts }, (_, i) => address(i));
  await writeFile(join(dir, 'hosts'), `${hostLines.join('\n')}\n`);
  await writeFile(
    join(dir, 'inventory.ini'),
    `[all]\n${hostLines.join('\n')}\n\n[all:vars]\nansible_port=${ep.port}\nansible_user=root\n` +
      `ansible_ssh_private_key_file=${ep.key}\n` +
      `ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR'\n`,
  );
  const { cmd, env, count } = peerCommand(peer, ep, dir, fanout);
  const outFile = join(dir, `${peer}.out`);
  const timesFile = join(dir, `${peer}.times`);
  const limitS = Math.max(120, hosts * 1.0);
  const srv0 = ep.serverCpuS?.();
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    // bash `times` prints the CPU of every waited-for descendant: the tool and all its ssh processes.
    const child = spawn(
      'bash',
      ['-c', '"$@" >"$FP_OUT" 2>&1 </dev/null; rc=$?; times >"$FP_TIMES"; exit $rc', 'bench', ...cmd],
      {
        env: { ...process.env, ...env, FP_OUT: outFile, FP_TIMES: timesFile },
        detached: true,
        stdio: 'ignore',
      },
    );
    live.add(child);
    const timer = setTimeout(() => killGroup(child), limitS * 1000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      live.delete(child);
      resolve(c);
    });
  });
  const wallS = (performance.now() - t0) / 1000;
  const out = existsSync(outFile) ? await readFile(outFile, 'utf8') : '';
  const times = existsSync(timesFile) ? await readFile(timesFile, 'utf8') : '';
  const childLine = times.trim().split('\n')[1] ?? '';
  const cpuS = [...childLine.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (a, m) => a + Number(m[1]) * 60 + Number(m[2]),
    0,
  );
  const ok = count(out, hosts);
  if (ok < hosts) {
    console.error(
      `  ${peer}: ${hosts - ok} not ok (exit ${code}); first lines: ${out.split('\n').slice(0, 3).join(' | ')}`,
    );
  }
  return {
    server: ep.name,
    tool: peer,
    fanout,
    hosts,
    ok,
    wallS,
    hostsPerS: hosts / wallS,
    clientCpuMsPerHost: (cpuS * 1000) / hosts,
    serverCpuMsPerHost: srv0 === undefined ? undefined : ((ep.serverCpuS!() - srv0) * 1000) / hosts,
  };
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL'); // the group this bench created for that peer run
  } catch {
    // already gone
  }
}

function peerAvailable(peer: Peer): boolean {
  const bin = { pdsh: 'pdsh', clush: 'clush', pssh: 'parallel-ssh', ansible: 'ansible' }[peer];
  return ['/usr/bin', '/usr/local/bin'].some((d) => existsSync(join(d, bin)));
}

// ---------------------------------------------------------------- servers

async function startSimChild(hosts: number, dir: string): Promise<{ ep: Endpoint; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', new URL(import.meta.url).pathname, '--serve-sim', String(hosts), dir],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  live.add(child);
  child.once('exit', () => live.delete(child));
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => {
      rl.close();
      resolve(l);
    });
    child.once('exit', (c) => reject(new Error(`sim process exited (${c})`)));
  });
  const info = JSON.parse(line) as { port: number; clientKeyFile: string; knownHostsFile: string };
  return {
    child,
    ep: {
      name: 'sim',
      port: info.port,
      key: info.clientKeyFile,
      knownHosts: info.knownHostsFile,
      serverCpuS: () => processAndReapedCpuSeconds(child.pid!),
    },
  };
}

/** Child mode: serve the sim's SSH for `hosts` hosts at 127.30.0.1.. until stdin closes. */
async function serveSim(hosts: number, dir: string): Promise<void> {
  const model = createFleetModel({ hosts, base: address(0), seed: 1 });
  const sim = await startSimSshServer(model, { stateDir: dir, host: '0.0.0.0' });
  process.stdout.write(
    `${JSON.stringify({ port: sim.port, clientKeyFile: sim.clientKeyFile, knownHostsFile: sim.knownHostsFile })}\n`,
  );
  process.stdin.resume();
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.close();
  process.exit(0);
}

// ---------------------------------------------------------------- report

function table(rows: Row[]): string {
  const head = [
    'server',
    'tool',
    'fanout',
    'ok/hosts',
    'wall s',
    'hosts/s',
    'client CPU ms/host',
    'server CPU ms/host',
  ];
  const body = rows.map((r) => [
    r.server,
    r.tool,
    String(r.fanout),
    `${r.ok}/${r.hosts}`,
    r.wallS.toFixed(1),
    r.hostsPerS.toFixed(1),
    r.clientCpuMsPerHost.toFixed(1),
    r.serverCpuMsPerHost === undefined ? '-' : r.serverCpuMsPerHost.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt)].join('\n');
}

function verdicts(rows: Row[]): string[] {
  const out: string[] = [];
  const cores = os.cpus().length;
  const fastest = (server: string, ours: boolean) =>
    rows
      .filter((r) => r.server === server && (r.tool === 'fleetprobe') === ours && r.ok === r.hosts)
      .sort((a, b) => a.wallS - b.wallS)[0];
  const a = fastest('sshd', true);
  if (a) {
    const serverMs = a.serverCpuMsPerHost ?? 140;
    const cap = (cores * 1000) / serverMs;
    out.push(
      `(a) sshd: fleetprobe ${a.hostsPerS.toFixed(1)} hosts/s; cap from sshd's ${serverMs.toFixed(0)} ms CPU/conn on ` +
        `${cores} cores = ${cap.toFixed(1)} hosts/s; >= 90% of cap: ${a.hostsPerS >= 0.9 * cap ? 'PASS' : 'MISS'}`,
    );
    const p = fastest('sshd', false);
    if (p) {
      const speedup = p.wallS / a.wallS;
      out.push(
        `(a) vs fastest peer ${p.tool} (fanout ${p.fanout}): ${speedup.toFixed(2)}x wall (target >= 1.7x: ` +
          `${speedup >= 1.7 ? 'PASS' : 'MISS'}); client CPU ${a.clientCpuMsPerHost.toFixed(1)} vs ` +
          `${p.clientCpuMsPerHost.toFixed(1)} ms/host (target <= 1/10: ` +
          `${a.clientCpuMsPerHost <= p.clientCpuMsPerHost / 10 ? 'PASS' : 'MISS'})`,
      );
    }
  }
  const b = fastest('sim', true);
  const pb = fastest('sim', false);
  if (b && pb) {
    const x = b.hostsPerS / pb.hostsPerS;
    out.push(
      `(b) sim: fleetprobe ${b.hostsPerS.toFixed(0)} hosts/s vs fastest peer ${pb.tool} (fanout ${pb.fanout}) ` +
        `${pb.hostsPerS.toFixed(1)}: ${x.toFixed(1)}x (target >= 10x: ${x >= 10 ? 'PASS' : 'MISS'})`,
    );
  }
  // What the CPU alone allows when client and server share the cores: cores / (client + server CPU per host).
  for (const r of [a, fastest('sshd', false), b, pb]) {
    if (!r || r.serverCpuMsPerHost === undefined) continue;
    const ceiling = (cores * 1000) / (r.clientCpuMsPerHost + r.serverCpuMsPerHost);
    out.push(
      `    CPU ceiling ${r.server}/${r.tool}: ${ceiling.toFixed(0)} hosts/s (measured ${r.hostsPerS.toFixed(1)})`,
    );
  }
  out.push(
    `    load average at the end: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (other work skews every number)`,
  );
  return out;
}

// ---------------------------------------------------------------- main

async function runAll(
  rows: Row[],
  ep: Endpoint,
  flags: Flags,
  concurrency: number[],
  fanouts: number[],
  peers: Peer[],
  dir: string,
): Promise<void> {
  for (const c of concurrency) {
    rows.push(await runOurs(ep, flags.hosts, c));
    console.log(line(rows.at(-1)!));
  }
  for (const peer of peers) {
    for (const f of fanouts) {
      rows.push(await runPeer(peer, ep, dir, flags.hosts, f));
      console.log(line(rows.at(-1)!));
    }
  }
}

function line(r: Row): string {
  return `${table([r]).split('\n')[2]}   (load ${os.loadavg()[0]!.toFixed(1)})`;
}

async function main(): Promise<void> {
  const flags = parseFlags();
  const dir = await mkdtemp(join(os.tmpdir(), 'fp-bench-ssh-'));
  const rows: Row[] = [];
  let sshd: Sshd | undefined;
  let sim: ChildProcess | undefined;
  const cleanup = async () => {
    for (const c of live) killGroup(c);
    sim?.kill('SIGTERM');
    await sshd?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const onSignal = () => {
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const peers = flags.peers.filter((p) => {
    if (peerAvailable(p)) return true;
    console.error(`  peer ${p} is not installed: skipped`);
    return false;
  });
  console.log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
      `node ${process.version}, ${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()}`,
  );
  console.log(
    `load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    `hosts: ${flags.hosts} (${address(0)}..${address(flags.hosts - 1)}), command: true, peers: ${peers.join(',')}`,
  );
  try {
    if (!flags.skipSshd) {
      if (!sshdAvailable()) throw new Error('sshd is not installed (Debian openssh-server); use --skip-sshd');
      // MaxStartups above our pending limit so sshd itself never drops a connection; at most ~128 pending.
      sshd = await startSshd({ dir: join(dir, 'sshd'), host: '0.0.0.0', maxStartups: '256' });
      const knownHosts = join(dir, 'sshd_known_hosts');
      await writeFile(knownHosts, `127.*,[127.*]:${sshd.port} ${sshd.hostPublicKey}\n`);
      const s = sshd;
      const ep: Endpoint = {
        name: 'sshd',
        port: s.port,
        key: s.clientKeyFile,
        knownHosts,
        serverCpuS: () => processAndReapedCpuSeconds(s.pid),
      };
      await runAll(rows, ep, flags, flags.concurrency.sshd, flags.fanout.sshd, peers, dir);
      await sshd.stop();
      sshd = undefined;
    }
    if (!flags.skipSim) {
      const started = await startSimChild(flags.hosts, join(dir, 'sim'));
      sim = started.child;
      await runAll(rows, started.ep, flags, flags.concurrency.sim, flags.fanout.sim, peers, dir);
    }
    console.log(`\n${table(rows)}\n`);
    for (const v of verdicts(rows)) console.log(v);
    if (flags.json) await writeFile(flags.json, JSON.stringify({ flags, rows }, null, 2));
  } finally {
    await cleanup();
  }
}

if (process.argv[2] === '--serve-sim') {
  await serveSim(Number(process.argv[3]), process.argv[4]!);
} else {
  await main();
}
