import { CommanderError } from 'commander';
import { FleetprobeError } from '../core/errors.js';
import { clipQuoted } from '../core/text.js';
import { EXIT } from './exit-codes.js';
import { buildProgram } from './program.js';

/**
 * Exit 2: bad usage or input, and what the operator must fix in the environment (a store that cannot be
 * opened, a port in use): one line naming the problem, no stack.
 */
const USAGE_CODES = new Set([
  'FP_USAGE',
  'FP_BAD_TARGET',
  'FP_BAD_CHECK_ARGS',
  'FP_STORE_URL',
  'FP_STORE_OPEN',
  'FP_LISTEN',
  'FP_CONFIG',
]);

export async function main(argv: string[]): Promise<void> {
  // `fleetprobe checks | head`: a reader that goes away ends the output quietly, as for any Unix tool.
  // A command with its own output handling (run's TextOutput finishes the run and stores it) decides itself.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (process.stdout.listenerCount('error') > 1) return;
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  try {
    const program = await buildProgram(argv[2]);
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportFatal(err);
    // Whatever is still open must not keep a failed command alive (a user module stuck in its top-level
    // await holds an interval, say). stderr to a pipe, file or TTY is written synchronously.
    process.exit();
  }
}

/** One line on stderr; exit 2 for bad usage or input, 70 for a fault of fleetprobe itself. */
function reportFatal(err: unknown): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
    if (err.code === 'commander.help') return EXIT.ok;
    process.stderr.write(`fleetprobe: ${err.message.replace(/^error: /, '')}\n`);
    return EXIT.usage;
  }
  if (err instanceof FleetprobeError && USAGE_CODES.has(err.code)) {
    process.stderr.write(`fleetprobe: ${clipQuoted(err.message.replace(/\s*\n\s*/g, ' '))}\n`);
    return EXIT.usage;
  }
  process.stderr.write(
    `fleetprobe: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return EXIT.internal;
}

await main(process.argv);
