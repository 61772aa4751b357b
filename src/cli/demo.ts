/**
 * `npm run demo`: the product end to end on the embedded default, with no setup. Starts a simulated
 * fleet of 2,000 hosts with mixed faults, runs every built-in check against it through the real
 * `fleetprobe run` command (results stored in ./fleetprobe-demo.db, SQLite), checks each result against
 * what the simulator says that host should yield, and shows the run history and a diff of two runs.
 * Then monitoring: a server with a monitor over 256 of the hosts (added with `fleetprobe monitors add`),
 * 50 hosts broken while it watches, their transitions printed, then repaired.
 */
import { spawn, spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { request } from 'undici';
import { isClientOverloadResult } from '../engine/overload.js';
import { startServer } from '../server/start.js';
import { expectedStatus, type ManifestCheck, manifestCheckArgs } from '../sim/manifest.js';
import { type Simulator, startSimulator } from '../sim/simulator.js';
import { writeTargetsFile } from '../sim/targets-file.js';
import type { TransitionRecord } from '../store/monitor-store.js';

const CLI = fileURLToPath(new URL('../../bin/fleetprobe.js', import.meta.url));
const DB = 'fleetprobe-demo.db';
const HOSTS = 2000;
const TIMEOUT_MS = 3000;
/**
 * ssh gets more time and fewer in flight: the simulator's SSH server runs its key exchanges in this very
 * process, so on a busy machine its handshakes queue behind each other (at load ~16, a 3 s deadline at
 * 128 in flight timed out 1,201 healthy hosts).
 */
const SSH_TIMEOUT_MS = 10_000;
const timeoutFor = (check: ManifestCheck) => (check === 'ssh' ? SSH_TIMEOUT_MS : TIMEOUT_MS);
const concurrencyFor = (check: ManifestCheck) => (check === 'ssh' ? '48' : check === 'https' ? '128' : '512');
const bold = (s: string) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);

interface CliRun {
  code: number | null;
  stderr: string;
  lines: number;
  matched: number;
  /** `error` results the client gave up judging: it was itself the bottleneck (FP_CLIENT_OVERLOAD). */
  overloaded: number;
  mismatches: string[];
}

/** Runs the CLI, parses its JSONL and compares each status with the simulator's expectation. */
function runCli(args: string[], expect: (target: string, status: string) => boolean): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: CliRun = { code: null, stderr: '', lines: 0, matched: 0, overloaded: 0, mismatches: [] };
    child.stderr.on('data', (chunk: Buffer) => {
      out.stderr += chunk.toString();
    });
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      out.lines++;
      const r = JSON.parse(line) as { target: string; status: string; message: string };
      if (expect(r.target, r.status)) out.matched++;
      else if (isClientOverloadResult(r)) out.overloaded++;
      else if (out.mismatches.length < 5) out.mismatches.push(`${r.target} ${r.status}`);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      out.code = code;
      resolve(out);
    });
  });
}

async function main(): Promise<void> {
  await rm(DB, { force: true });
  process.stdout.write(bold(`Starting a simulated fleet: ${HOSTS} hosts on 127.20.0.0+, mixed faults...\n`));
  const sim = await startSimulator({
    hosts: HOSTS,
    profile: 'mixed',
    ports: { http: 0, https: 0, tcp: 0, dns: 0, ssh: 0 },
  });
  try {
    const targets = join(sim.stateDir, 'targets.jsonl');
    await writeTargetsFile(sim.model, targets);
    const ctx = {
      timeoutMs: TIMEOUT_MS,
      ports: sim.ports,
      ...(sim.caFile ? { caFile: sim.caFile } : {}),
      ...(sim.clientKeyFile ? { clientKeyFile: sim.clientKeyFile } : {}),
      ...(sim.knownHostsFile ? { knownHostsFile: sim.knownHostsFile } : {}),
    };
    const checkArgs = manifestCheckArgs(ctx);
    const checks: ManifestCheck[] = ['tcp', 'http', 'https', 'dns', 'ssh'];
    let allMatched = true;
    let notJudged = 0;
    for (const check of checks) {
      if (!sim.ports[check]) continue;
      const args = Object.fromEntries(Object.entries(checkArgs[check]).filter(([, v]) => v !== undefined));
      const cliCheck = check === 'https' ? 'http' : check;
      const timeoutMs = timeoutFor(check);
      const argv = [
        'run',
        cliCheck,
        '-f',
        targets,
        '--args-json',
        JSON.stringify(args),
        '-t',
        `${timeoutMs}ms`,
      ];
      argv.push('-c', concurrencyFor(check), '--db', DB, '-o', 'jsonl', '--no-progress');
      process.stdout.write(
        `\n${bold(`$ fleetprobe run ${cliCheck} -f targets.jsonl ${describeArgs(args)}`)}\n`,
      );
      const run = await runCli(argv, (target, status) => {
        const host = sim.model.hostAt(target);
        return host !== undefined && expectedStatus(host, check, { timeoutMs }) === status;
      });
      process.stdout.write(run.stderr);
      // A few not judged is a busy machine; most of them would be fleetprobe misjudging its own load.
      const ok = run.matched + run.overloaded === HOSTS && run.overloaded < HOSTS / 20 && run.lines === HOSTS;
      allMatched &&= ok;
      notJudged += run.overloaded;
      process.stdout.write(
        `  simulator agrees with ${run.matched}/${HOSTS} results${ok ? '' : ` (e.g. ${run.mismatches.join(', ')})`}` +
          ` - exit status ${run.code}\n`,
      );
      // On a machine too busy for this run (the simulator shares it), fleetprobe says it was the bottleneck
      // rather than blame the host: such a result is not a mismatch, and the summary's client line counts them.
      if (run.overloaded > 0)
        process.stdout.write(
          `  ${run.overloaded} not judged: this machine was too busy, and fleetprobe said so (client overloaded)\n`,
        );
    }
    process.stdout.write(`\n${bold('$ fleetprobe runs list --db fleetprobe-demo.db')}\n`);
    // Inherits the terminal: `runs list` prints a table on a TTY (JSON lines otherwise).
    spawnSync(process.execPath, [CLI, 'runs', 'list', '--db', DB], { stdio: 'inherit' });
    process.stdout.write(
      `\nThe demo database is ./${DB}: try \`fleetprobe runs results <id> --status fail --db ${DB}\`.\n` +
        (allMatched
          ? `Every result matched the simulator${notJudged ? `, except ${notJudged} the client was too busy to judge` : ''}.\n`
          : 'Some results did not match the simulator (see above).\n'),
    );
    const monitored = await monitoring(sim);
    process.exitCode = allMatched && monitored ? 0 : 1;
  } finally {
    await sim.close();
  }
}

const WATCHED = '127.20.0.0/24';
const BROKEN_RANGE = '127.20.0.100-127.20.0.149';
const inBrokenRange = (address: string) => {
  const last = Number(/^127\.20\.0\.(\d+)$/.exec(address)?.[1] ?? -1);
  return last >= 100 && last <= 149;
};

/**
 * A monitor over 256 hosts of the simulated fleet, every 2 s: some hosts are faulty from the start (the
 * mixed profile); then 50 are broken through the simulator's fault control while the monitor watches, and
 * repaired. Returns whether every broken host went DOWN and came back.
 */
async function monitoring(sim: Simulator): Promise<boolean> {
  process.stdout.write(`\n${bold('Monitoring: a server and a monitor over the simulated fleet')}\n`);
  const server = await startServer({ listen: '127.0.0.1:0', db: DB, log: pino({ level: 'silent' }) });
  try {
    const args = ['monitors', '--server', server.url];
    // The banner check tells a refused (reset) connection from a real one; see `manifestCheckArgs`.
    const tcpArgs = manifestCheckArgs({ timeoutMs: TIMEOUT_MS, ports: sim.ports }).tcp;
    const add = [...args, 'add', 'edge-tcp', 'tcp', WATCHED, '--args-json', JSON.stringify(tcpArgs)];
    add.push('--interval', '2s', '-t', '1s', '--down-after', '2', '--label', 'demo=yes');
    process.stdout.write(`${bold(`$ fleetprobe ${add.join(' ').replace(server.url, '<server>')}`)}\n`);
    await cli([...add, '-o', 'table']);
    const get = async <T>(path: string): Promise<T> => {
      const res = await request(`${server.url}/api/v1${path}`);
      return (await res.body.json()) as T;
    };
    const status = () =>
      get<{ status: { rounds: number; states: Record<string, number> } }>('/monitors/edge-tcp');
    const untilTrue = async (what: string, ok: () => Promise<boolean>): Promise<boolean> => {
      const end = Date.now() + 45_000;
      while (Date.now() < end) {
        if (await ok()) return true;
        await sleep(250);
      }
      process.stdout.write(`  (gave up waiting for ${what})\n`);
      return false;
    };
    await untilTrue('two rounds', async () => (await status()).status.rounds >= 3);
    const before = (await status()).status.states;
    process.stdout.write(`  after two rounds: ${states(before)}\n`);

    // The hosts of the range that are UP now (the mixed profile has some faulty from the start).
    const upPage = await get<{ targets: { target: string }[] }>(
      '/monitors/edge-tcp/targets?state=UP&limit=1000',
    );
    const watched = new Set(upPage.targets.map((t) => t.target).filter(inBrokenRange));
    const brokenAt = new Date().toISOString();
    process.stdout.write(
      `\n${bold(`Breaking ${BROKEN_RANGE} (tcp refused) through the simulator's fault control...`)}\n`,
    );
    const override = sim.faults.set({ range: BROKEN_RANGE, fault: 'refused', protocol: 'tcp' });
    const wentDown = await transitionsUntil(get, brokenAt, 'DOWN', watched, untilTrue);
    printTransitions(wentDown);

    const repairedAt = new Date().toISOString();
    process.stdout.write(`\n${bold('Repairing them...')}\n`);
    sim.faults.remove(override.id);
    const cameBack = await transitionsUntil(get, repairedAt, 'UP', watched, untilTrue);
    printTransitions(cameBack);

    process.stdout.write(`\n${bold('$ fleetprobe monitors show edge-tcp --server <server>')}\n`);
    await cli([...args, 'show', 'edge-tcp', '--limit', '5', '-o', 'table']);
    // The monitor stays in the demo database; a `fleetprobe server --db fleetprobe-demo.db` resumes it.
    await cli([...args, 'pause', 'edge-tcp', '-o', 'json'], 'ignore');
    return wentDown.length === watched.size && cameBack.length === watched.size;
  } finally {
    await server.close({ graceMs: 0 });
  }
}

/** Runs the CLI without blocking this process's event loop (the server it talks to runs here). */
function cli(args: string[], stdout: 'inherit' | 'ignore' = 'inherit'): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', stdout, 'inherit'] });
    child.on('error', reject);
    child.on('close', resolve);
  });
}

/** Waits until each of `targets` has a transition to `to` since `since`; returns those transitions. */
async function transitionsUntil(
  get: <T>(path: string) => Promise<T>,
  since: string,
  to: string,
  targets: ReadonlySet<string>,
  untilTrue: (what: string, ok: () => Promise<boolean>) => Promise<boolean>,
): Promise<TransitionRecord[]> {
  let found: TransitionRecord[] = [];
  await untilTrue(`targets going ${to}`, async () => {
    const page = await get<{ transitions: TransitionRecord[] }>(
      `/monitors/edge-tcp/transitions?since=${encodeURIComponent(since)}&limit=1000`,
    );
    found = page.transitions.filter((t) => t.to === to && targets.has(t.target));
    return new Set(found.map((t) => t.target)).size === targets.size;
  });
  return found;
}

function printTransitions(list: readonly TransitionRecord[]): void {
  for (const t of list.slice(0, 3))
    process.stdout.write(`  ${t.at}  ${t.target}  ${t.from} -> ${t.to}  (${t.status}: ${t.message})\n`);
  if (list.length > 3) process.stdout.write(`  ... ${list.length} transitions in all\n`);
}

const states = (s: Record<string, number>) =>
  Object.entries(s)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

function describeArgs(args: Record<string, unknown>): string {
  return Object.entries(args)
    .map(([k, v]) => `-a ${k}=${String(v).includes('/') && k !== 'expectStatus' ? '...' : String(v)}`)
    .join(' ');
}

await main();
