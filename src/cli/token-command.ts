import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { newToken, ROLES, type Role } from '../server/auth.js';

/**
 * `fleetprobe token new [--role read|operate]`: prints a fresh random API token (32 random bytes,
 * base64url, 43 characters) on stdout; with `--role`, as a `role:token` line for a token file.
 */
export function tokenCommand(program: Command): void {
  const token = program.command('token').description('API tokens for fleetprobe server');
  token
    .command('new')
    .description('print a fresh random API token (32 random bytes, base64url)')
    .option('--role <role>', 'print it as a "<role>:<token>" line for --token-file (read or operate)')
    .action((flags: { role?: string }) => {
      if (flags.role !== undefined && !ROLES.includes(flags.role as Role)) {
        throw new UsageError(`--role: "${flags.role.slice(0, 32)}" is not one of ${ROLES.join(', ')}`);
      }
      const t = newToken();
      process.stdout.write(`${flags.role ? `${flags.role}:` : ''}${t}\n`);
    });
}
