import type { Command } from 'commander';
import { startThreadsEarly } from './run-early.js';
import type { RunFlags } from './run-flags.js';

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `fleetprobe run`. This module loads little: the action starts the run's worker threads (when it will
 * likely have them) before it loads `run-action.js` and everything a run needs.
 */
export function runCommand(program: Command): void {
  program
    .command('run')
    .description('run a check against targets and print one result per target')
    .argument('<check>', 'check name (see `fleetprobe checks`)')
    .argument('[targets...]', 'addresses, [v6]:port, host:port, CIDRs, hostnames')
    .option(
      '-f, --targets-file <path|->',
      'targets file (.txt, .csv, .jsonl; - for stdin); repeatable',
      collect,
      [],
    )
    .option('--resolve <domain>', 'add the A/AAAA records of a domain as targets (repeatable)', collect, [])
    .option('--resolver <ip[:port]>', 'DNS server for --resolve and hostname targets')
    .option('-a, --arg <key=value>', 'check argument (repeatable)', collect, [])
    .option('--args-json <object>', 'check arguments as a JSON object')
    .option('-c, --concurrency <n>', 'checks in flight', '256')
    .option('-t, --timeout <duration>', "per-target deadline, e.g. 1500ms, 5s (default: the check's)")
    .option('--retries <n>', 'retries after error/timeout', '0')
    .option('--rate <n>', 'most checks started per second')
    .option(
      '-o, --output <fmt>',
      'table | jsonl | csv | summary | groups (default: table on a TTY, else jsonl)',
    )
    .option('--db <url>', 'also store the run: a SQLite path or postgres:// URL')
    .option('--check-module <path>', 'load a user check (.ts or .js)')
    .option(
      '--search-index <url>',
      'also index results in Elasticsearch/OpenSearch (credentials: URL userinfo or FLEETPROBE_SEARCH_AUTH)',
    )
    .option(
      '--search-index-name <pattern>',
      "index name; YYYY, MM, DD: the result's UTC date (default fleetprobe-results-YYYY.MM.DD)",
    )
    .option(
      '--threads <n>',
      "threads the run is sharded over, main's included up to 4 (default: the cores available from 50,000 targets; 1: this thread only)",
    )
    .option('--no-progress', 'no live progress line on stderr')
    .action(async (checkName: string, specs: string[], flags: RunFlags) => {
      // Threads load their modules while this one loads the rest of the command and validates the targets.
      const started = startThreadsEarly(specs, flags);
      const { runAction, armExitWatchdog } = await import('./run-action.js');
      process.exitCode = await runAction(checkName, specs, flags, started);
      armExitWatchdog();
    });
}
