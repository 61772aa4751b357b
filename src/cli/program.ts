import { Command } from 'commander';

type AddCommand = (program: Command) => void;

/**
 * Subcommands are loaded on demand: `run` should not pay for loading fastify, kysely and the NATS
 * client at start-up. Help with no subcommand loads them all.
 */
const SUBCOMMANDS: Record<string, () => Promise<AddCommand>> = {
  run: async () => (await import('./run-command.js')).runCommand,
  checks: async () => (await import('./checks-command.js')).checksCommand,
  sim: async () => (await import('../sim/cli.js')).simCommand,
  server: async () => (await import('./server-command.js')).serverCommand,
  runs: async () => (await import('./runs-command.js')).runsCommand,
  monitors: async () => (await import('./monitors-command.js')).monitorsCommand,
  worker: async () => (await import('./worker-command.js')).workerCommand,
  token: async () => (await import('./token-command.js')).tokenCommand,
  alerts: async () => (await import('./alerts-command.js')).alertsCommand,
  silences: async () => (await import('./alerts-command.js')).alertsCommand,
};

/** Builds the `fleetprobe` command with `only` (or every) subcommand; each lives in its own module. */
export async function buildProgram(only?: string): Promise<Command> {
  const program = new Command('fleetprobe')
    .description('Test and monitor a server fleet: one check, many hosts, one result per host.')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: () => {} }); // errors are printed once, below, on one line
  // `--version` needs no subcommand; the top-level help lists them all, with their descriptions.
  const load =
    only === '--version' || only === '-V'
      ? []
      : only !== undefined && SUBCOMMANDS[only]
        ? [SUBCOMMANDS[only]]
        : Object.values(SUBCOMMANDS);
  // One module may add several commands (alerts and silences): add each once.
  for (const add of new Set(await Promise.all(load.map((f) => f())))) add(program);
  return program;
}
