import type { Command } from 'commander';
import * as z from 'zod';
import { buildRegistry } from './runtime.js';

/**
 * `fleetprobe checks`: each check with its arguments, types, defaults (from its schema) and roles
 * (`[address]`, `[pattern]`, `[sshIdentity]`...: what the server's API holds the argument to).
 */
export function checksCommand(program: Command): void {
  program
    .command('checks')
    .description('list checks with their arguments and defaults')
    .option('--check-module <path>', 'also list a user check')
    .option('--json', 'print as JSON')
    .action(async (flags: { checkModule?: string; json?: boolean }) => {
      const registry = await buildRegistry(flags.checkModule);
      const checks = registry.list().map((check) => {
        const schema = z.toJSONSchema(check.args, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
        return {
          name: check.name,
          description: check.description,
          timeoutMs: check.timeoutMs,
          args: Object.entries(schema.properties ?? {}).map(([name, p]) => ({
            name,
            type: typeName(p),
            default: p.default,
            description: p.description,
            // What the argument is to the server (address, pattern, sshIdentity...): see ArgRole.
            role: check.argRoles?.[name],
          })),
        };
      });
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(checks, null, 2)}\n`);
        return;
      }
      for (const check of checks) {
        process.stdout.write(
          `${check.name}  (default timeout ${check.timeoutMs} ms)\n  ${check.description}\n`,
        );
        for (const arg of check.args) {
          const def = arg.default === undefined ? '' : ` = ${JSON.stringify(arg.default)}`;
          const desc = arg.description ? `  ${arg.description}` : '';
          const role = arg.role ? ` [${arg.role}]` : '';
          process.stdout.write(`    ${arg.name}: ${String(arg.type)}${def}${role}${desc}\n`);
        }
        process.stdout.write('\n');
      }
    });
}

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  anyOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  default?: unknown;
  description?: string;
}

/**
 * A short type name for the listing: `integer`, `http|https`, `boolean` (CLI strings such as `yes` are
 * accepted too), `object|string[]|string`.
 */
function typeName(p: JsonSchema): string {
  if (p.anyOf) {
    const members = p.anyOf.filter((m) => !(m.type === 'string' && m.enum)); // coercion spellings
    return [...new Set(members.map(typeName))].join('|');
  }
  if (p.enum) return p.enum.join('|');
  if (p.type === 'array') {
    const item = p.items ? typeName(p.items) : 'any';
    return item.includes('|') ? `(${item})[]` : `${item}[]`;
  }
  if (Array.isArray(p.type)) return p.type.join('|');
  return p.type ?? 'any';
}
