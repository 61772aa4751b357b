import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (the worktree the bench runs from). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The CLI exactly as a user runs it: `node bin/fleetprobe.js ...` (imports bundle/). */
export const CLI = path.join(ROOT, 'bin', 'fleetprobe.js');

export { ensureBuilt } from '../../scripts/ensure-built.js';

/**
 * Whether `fleetprobe <command> --help` lists `option` (e.g. `--threads`): lets a bench use an option
 * that lands later and still run on a build without it.
 */
export function cliHasOption(command: string, option: string): boolean {
  const help = spawnSync(process.execPath, [CLI, command, '--help'], { cwd: ROOT, encoding: 'utf8' });
  return new RegExp(`(^|[\\s,])${option}\\b`, 'm').test(help.stdout ?? '');
}

/** The CLI's final summary line on stderr ("N targets in X s: ..."), else its last stderr line. */
export function summaryLine(stderr: string): string {
  return stderr.split('\n').find((l) => / targets in /.test(l)) ?? stderr.trim().split('\n').at(-1) ?? '';
}

/** "100,000 pass" -> 100000, from the summary line the CLI prints on stderr. */
export function countOf(stderr: string, status: string): number {
  const line = stderr.split('\n').find((l) => / targets in /.test(l)) ?? '';
  const m = new RegExp(`([\\d,]+) ${status}\\b`).exec(line);
  return m?.[1] ? Number(m[1].replaceAll(',', '')) : 0;
}

/** The summary's "  client: event loop stalled ..." line (the CLI's own overload), or undefined. */
export function clientOverloadLine(stderr: string): string | undefined {
  return stderr
    .split('\n')
    .find((l) => l.startsWith('  client: '))
    ?.trim();
}
