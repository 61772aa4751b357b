import type { Command } from 'commander';
import pino from 'pino';
import { validateCheckArgs } from '../checks/validate-args.js';
import { CancelledError, UsageError } from '../core/errors.js';
import { OutcomeSummary } from '../engine/outcome-summary.js';
import type { Result } from '../engine/result.js';
import { startRun } from '../engine/run.js';
import { openTargets } from '../targets/index.js';
import { EXIT } from './exit-codes.js';
import {
  type OutputFormat,
  parseCheckArgs,
  parseDurationMs,
  parseIntOption,
  parseOutputFormat,
  parsePositiveNumber,
} from './parse-options.js';
import { RunTerminal } from './run-terminal.js';
import { buildRegistry, closeSharedResources, makeResolver } from './runtime.js';

interface RunFlags {
  targetsFile: string[];
  resolve: string[];
  resolver?: string;
  arg: string[];
  argsJson?: string;
  concurrency: string;
  timeout?: string;
  retries: string;
  rate?: string;
  output?: string;
  db?: string;
  checkModule?: string;
  progress: boolean;
}

const collect = (value: string, previous: string[]) => [...previous, value];

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
    .option('-o, --output <fmt>', 'table | jsonl | csv | summary (default: table on a TTY, else jsonl)')
    .option('--db <url>', 'also store the run: a SQLite path or postgres:// URL')
    .option('--check-module <path>', 'load a user check (.ts or .js)')
    .option('--no-progress', 'no live progress line on stderr')
    .action(async (checkName: string, specs: string[], flags: RunFlags) => {
      process.exitCode = await runAction(checkName, specs, flags);
      armExitWatchdog();
    });
}

async function runAction(checkName: string, specs: string[], flags: RunFlags): Promise<number> {
  // Everything is validated before anything runs: bad input exits 2 with nothing on stdout.
  const concurrency = parseIntOption(flags.concurrency, '--concurrency', 1, 1_000_000);
  const retries = parseIntOption(flags.retries, '--retries', 0, 100);
  const timeoutMs = flags.timeout !== undefined ? parseDurationMs(flags.timeout, '--timeout') : undefined;
  const ratePerSec = flags.rate !== undefined ? parsePositiveNumber(flags.rate, '--rate') : undefined;
  const format: OutputFormat = flags.output
    ? parseOutputFormat(flags.output)
    : process.stdout.isTTY
      ? 'table'
      : 'jsonl';
  const registry = await buildRegistry(flags.checkModule);
  const check = registry.get(checkName);
  const rawArgs = parseCheckArgs(flags.arg, flags.argsJson);
  const args = validateCheckArgs(check, rawArgs);
  const resolve = makeResolver(flags.resolver);
  const source = await openTargets({
    specs,
    files: flags.targetsFile,
    resolveDomains: flags.resolve,
    stdin: process.stdin,
    resolve,
  });
  const sinks: { close(): Promise<void> }[] = [];
  try {
    if (source.total === 0) throw new UsageError('no targets given');
    let store: Awaited<ReturnType<typeof openStoreSink>> | undefined;
    if (flags.db) {
      store = await openStoreSink(flags.db);
      sinks.push(store);
    }
    const log = pino({ level: process.env.FLEETPROBE_LOG ?? 'warn' }, pino.destination(2));
    const execution = startRun({
      check,
      args,
      targets: source.targets(),
      total: source.total,
      concurrency,
      timeoutMs,
      retries,
      ratePerSec,
      resolve,
      log,
    });
    let interrupted = false;
    let outputClosed = false;
    const terminal = new RunTerminal({
      format,
      stdout: process.stdout,
      stderr: process.stderr,
      progress: flags.progress ? execution.progress : undefined,
      // `| head` went away: nobody reads the rest, so stop the run now, quietly.
      onClosed: () => {
        outputClosed = true;
        execution.cancel(new CancelledError('output closed'));
      },
    });
    const onSigint = () => {
      if (interrupted) {
        terminal.abandon();
        process.exit(EXIT.interrupted); // a second ^C: stop now
      }
      interrupted = true;
      execution.cancel(new CancelledError('interrupted'));
    };
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
    const summary = new OutcomeSummary();
    const t0 = performance.now();
    try {
      await terminal.header();
      let results: AsyncIterable<Result> = execution.results();
      if (store) {
        const options = {
          concurrency,
          timeoutMs,
          retries,
          ratePerSec,
          files: flags.targetsFile,
          resolve: flags.resolve,
        };
        const run = { check: checkName, args: rawArgs, specs, options, total: source.total };
        results = store.pipe(results, execution.id, run, () => interrupted || outputClosed);
      }
      for await (const result of results) {
        summary.add(result);
        await terminal.row(result);
      }
      await terminal.finish(summary, performance.now() - t0, interrupted);
    } finally {
      terminal.stopProgress();
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
    if (outputClosed) return EXIT.outputClosed;
    if (interrupted) return EXIT.interrupted;
    return summary.counts.pass === summary.total ? EXIT.ok : EXIT.notAllPassed;
  } finally {
    await source.close();
    for (const sink of sinks) await sink.close();
    await closeSharedResources();
  }
}

/** `--db`: loaded on demand so runs without a store never load the database drivers. */
async function openStoreSink(url: string) {
  const { openRunStoreSink } = await import('./run-store.js');
  return openRunStoreSink(url);
}

/**
 * After a run everything should be closed and the process should exit by itself. If a handle is still
 * open a few seconds later, that is a leak: name it on stderr and exit anyway rather than hang.
 */
function armExitWatchdog(graceMs = 3000): void {
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout');
    process.stderr.write(`fleetprobe: warning: handles still open after the run: ${open.join(', ')}\n`);
    process.exit();
  }, graceMs).unref();
}
