/**
 * `npm run bench [-- --only sweep,dns] [-- --quick]`: runs each benchmark in its own process, one after
 * the other (they would skew each other on 2 cores), and prints where each one's table came from.
 * `--quick` reaches only the benchmarks that have a quick mode (sweep, threads, monitor); other flags reach all.
 * Every benchmark is also runnable alone: `npx tsx bench/<name>.ts --help` prints its usage, and an unknown
 * flag stops it with one line naming the flag (exit 2).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BENCHES = [
  {
    name: 'sweep',
    what: 'http sweep vs curl at 20k and 100k hosts, RSS, 1M tcp targets RSS (issues 2, 11)',
    quick: true,
  },
  { name: 'sim', what: 'simulator: 100k hosts RSS, who saturates the CPU (issue 3)' },
  {
    name: 'dns',
    what: '1M names: run dns -f through the CLI and DnsClient alone vs adnshost, c-ares, dnsperf (issues 4, 11)',
  },
  { name: 'ssh', what: '`true` on 2,000 hosts vs pdsh, clush, parallel-ssh, ansible (issue 4)' },
  { name: 'store', what: '250k-target run with and without --db, page query time (issue 5)' },
  { name: 'dist', what: '1 vs 2 workers over JetStream, per-result overhead (issue 6)' },
  { name: 'threads', what: 'run tcp over a /14 of closed ports, --threads 1 vs 2 (issue 11)', quick: true },
  {
    name: 'monitor',
    what: 'monitors over 250k simulated hosts, tcp/60 s + http/5 min, 15 min per store: schedule, RSS, store growth (issue 9)',
    quick: true,
  },
  {
    name: 'overload',
    what: 'no false timeouts: 250k mixed simulated hosts, tcp and http at -c 1000 beside a busy process, vs the manifest (issue 11)',
  },
  { name: 'http-layer', what: 'HTTP client layers side by side (how the http check was chosen)' },
  { name: 'per-result', what: 'CPU per result of each check through the CLI vs its raw client (issue 11)' },
  {
    name: 'startup',
    what: '`run http` start-up: exec to first connect, CPU, RSS; with worker threads (issue 11)',
  },
  {
    name: 'thread-batches',
    what: "main thread's CPU per result it receives from worker threads, by result form (issue 11)",
  },
] as const;

const argv = process.argv.slice(2);
const onlyIndex = argv.indexOf('--only');
const only = onlyIndex >= 0 ? new Set((argv[onlyIndex + 1] ?? '').split(',')) : undefined;
const passThrough = onlyIndex >= 0 ? argv.filter((_, i) => i !== onlyIndex && i !== onlyIndex + 1) : argv;
const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));

let failed = 0;
for (const bench of BENCHES) {
  if (only && !only.has(bench.name)) continue;
  const file = fileURLToPath(new URL(`./${bench.name}.ts`, import.meta.url));
  if (!existsSync(file)) continue;
  process.stdout.write(`\n=== bench/${bench.name}.ts: ${bench.what}\n`);
  // --quick goes only to the benchmarks that have a quick mode; the others run in full.
  const args = 'quick' in bench ? passThrough : passThrough.filter((arg) => arg !== '--quick');
  if (args.length < passThrough.length) process.stdout.write('=== (no --quick mode: a full run)\n');
  const run = spawnSync(process.execPath, [tsx, file, ...args], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    process.stdout.write(`=== bench/${bench.name}.ts exited with ${run.status ?? run.signal}\n`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
