import { Command, CommanderError } from 'commander';
import { FleetprobeError } from '../core/errors.js';
import { checksCommand } from './checks-command.js';
import { EXIT, runCommand } from './run-command.js';

const USAGE_CODES = new Set(['FP_USAGE', 'FP_BAD_TARGET', 'FP_BAD_CHECK_ARGS']);

/** Builds the `fleetprobe` command; each subcommand lives in its own module. */
export async function buildProgram(): Promise<Command> {
  const program = new Command('fleetprobe')
    .description('Test and monitor a server fleet: one check, many hosts, one result per host.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: () => {} }); // errors are printed once, below, on one line
  runCommand(program);
  checksCommand(program);
  const optional: [string, string][] = [
    ['../sim/cli.js', 'simCommand'],
    ['./server-command.js', 'serverCommand'],
    ['./runs-command.js', 'runsCommand'],
    ['./worker-command.js', 'workerCommand'],
  ];
  for (const [path, name] of optional) {
    // TODO(lead): static imports once every subcommand module has landed.
    try {
      const mod = (await import(path)) as Record<string, (p: Command) => void>;
      mod[name]?.(program);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    }
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const program = await buildProgram();
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportFatal(err);
  }
}

/** One line on stderr; exit 2 for bad usage or input, 70 for a fault of fleetprobe itself. */
function reportFatal(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    process.stderr.write(`fleetprobe: ${err.message.replace(/^error: /, '')}\n`);
    return EXIT.usage;
  }
  if (err instanceof FleetprobeError && USAGE_CODES.has(err.code)) {
    process.stderr.write(`fleetprobe: ${err.message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(
    `fleetprobe: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return EXIT.internal;
}

await main(process.argv);
