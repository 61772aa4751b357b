/**
 * `npm run demo`: the product end to end on the embedded default, with no setup. Starts a simulated
 * fleet of 2,000 hosts with mixed faults, runs every built-in check against it through the real
 * `fleetprobe run` command (results stored in ./fleetprobe-demo.db, SQLite), checks each result against
 * what the simulator says that host should yield, and shows the run history and a diff of two runs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expectedStatus, type ManifestCheck, manifestCheckArgs } from '../sim/manifest.js';
import { startSimulator } from '../sim/simulator.js';
import { writeTargetsFile } from '../sim/targets-file.js';

const CLI = fileURLToPath(new URL('../../bin/fleetprobe.js', import.meta.url));
const DB = 'fleetprobe-demo.db';
const HOSTS = 2000;
const TIMEOUT_MS = 3000;
const bold = (s: string) => (process.stdout.isTTY ? `\u001b[1m${s}\u001b[0m` : s);

interface CliRun {
  code: number | null;
  stderr: string;
  lines: number;
  matched: number;
  mismatches: string[];
}

/** Runs the CLI, parses its JSONL and compares each status with the simulator's expectation. */
function runCli(
  args: string[],
  expect: (target: string, name: string | null, status: string) => boolean,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: CliRun = { code: null, stderr: '', lines: 0, matched: 0, mismatches: [] };
    child.stderr.on('data', (chunk: Buffer) => {
      out.stderr += chunk.toString();
    });
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      out.lines++;
      const r = JSON.parse(line) as { target: string; name: string | null; status: string };
      if (expect(r.target, r.name, r.status)) out.matched++;
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
    for (const check of checks) {
      if (!sim.ports[check]) continue;
      const args = Object.fromEntries(Object.entries(checkArgs[check]).filter(([, v]) => v !== undefined));
      const cliCheck = check === 'https' ? 'http' : check;
      const concurrency = check === 'ssh' || check === 'https' ? '128' : '512';
      const argv = [
        'run',
        cliCheck,
        '-f',
        targets,
        '--args-json',
        JSON.stringify(args),
        '-t',
        `${TIMEOUT_MS}ms`,
      ];
      argv.push('-c', concurrency, '--db', DB, '-o', 'jsonl', '--no-progress');
      process.stdout.write(
        `\n${bold(`$ fleetprobe run ${cliCheck} -f targets.jsonl ${describeArgs(args)}`)}\n`,
      );
      const run = await runCli(argv, (target, _name, status) => {
        const host = sim.model.hostAt(target);
        return host !== undefined && expectedStatus(host, check, { timeoutMs: TIMEOUT_MS }) === status;
      });
      process.stdout.write(run.stderr);
      const ok = run.matched === HOSTS && run.lines === HOSTS;
      allMatched &&= ok;
      process.stdout.write(
        `  simulator agrees with ${run.matched}/${HOSTS} results${ok ? '' : ` (e.g. ${run.mismatches.join(', ')})`}` +
          ` - exit status ${run.code}\n`,
      );
    }
    process.stdout.write(`\n${bold('$ fleetprobe runs list --db fleetprobe-demo.db')}\n`);
    // Inherits the terminal: `runs list` prints a table on a TTY (JSON lines otherwise).
    spawnSync(process.execPath, [CLI, 'runs', 'list', '--db', DB], { stdio: 'inherit' });
    process.stdout.write(
      `\nThe demo database is ./${DB}: try \`fleetprobe runs results <id> --status fail --db ${DB}\`.\n` +
        (allMatched
          ? 'Every result matched the simulator.\n'
          : 'Some results did not match the simulator (see above).\n'),
    );
    process.exitCode = allMatched ? 0 : 1;
  } finally {
    await sim.close();
  }
}

function describeArgs(args: Record<string, unknown>): string {
  return Object.entries(args)
    .map(([k, v]) => `-a ${k}=${String(v).includes('/') && k !== 'expectStatus' ? '...' : String(v)}`)
    .join(' ');
}

await main();
