// Entry point for the worker child processes of the distributed tests and bench: the real `worker`
// subcommand, without the rest of the CLI. Run with `node --import tsx test/distributed/worker-process.ts ...`.
import { Command } from 'commander';
import { workerCommand } from '../../src/cli/worker-command.js';

const program = new Command('fleetprobe').exitOverride();
workerCommand(program);
await program.parseAsync(process.argv);
