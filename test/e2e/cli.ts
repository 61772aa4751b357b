/**
 * Helpers for end-to-end tests of the built CLI: spawn `node bin/fleetprobe.js ...` exactly as a user
 * runs it and collect what it wrote, how it exited and how long it took.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'bin', 'fleetprobe.js');

export { ensureBuilt } from '../../scripts/ensure-built.js';

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Spawn to exit, ms. */
  readonly wallMs: number;
}

/** A running CLI process: its output so far and a promise of how it ended. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly done: Promise<CliRun>;
}

export interface StartOptions {
  readonly stdin?: string;
  /** Extra environment (merged over process.env; FLEETPROBE_* of the parent are dropped). */
  readonly env?: Record<string, string>;
}

/** Starts the CLI; the caller must await `done` (or kill the child). */
export function startCli(args: readonly string[], options: StartOptions = {}): CliProcess {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FLEETPROBE_')) env[k] = v;
  Object.assign(env, options.env);
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env,
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  if (options.stdin !== undefined) child.stdin?.end(options.stdin);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, wallMs: performance.now() - t0 }),
    );
  });
  return { child, stdout: () => stdout, stderr: () => stderr, done };
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], options: StartOptions = {}): Promise<CliRun> {
  return startCli(args, options).done;
}

/** Non-empty stdout lines parsed as JSON. */
export function jsonLines<T = Record<string, unknown>>(stdout: string): T[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** Non-empty lines. */
export function lines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

/** The line the CLI prints when it had to force an exit because something was left open. */
export const HANDLES_LEFT_OPEN = 'handles still open';
