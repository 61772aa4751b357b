import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const GNU_TIME = '/usr/bin/time';

export interface MeasureOptions {
  /**
   * `ignore`: stdout goes to /dev/null (as `> /dev/null`); `capture`: collected into `stdout`;
   * `{ file }`: written to that file (truncated first), as `> file`.
   */
  readonly stdout?: 'ignore' | 'capture' | { readonly file: string };
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Aborting kills the child (SIGKILL) and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called with the spawned process's pid (GNU time's when it is used: the program is its child). */
  readonly onSpawn?: (pid: number) => void;
  /** Keep at most this many characters of stderr (the tail; default 64 KiB). */
  readonly maxStderrChars?: number;
}

/** What one child process run cost. */
export interface Measured {
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Wall time seen from here: spawn to exit, seconds. */
  readonly wallS: number;
  /** Peak resident set of the measured program, MB (1 MB = 2^20 bytes); NaN when unknown. */
  readonly peakRssMb: number;
  /** How the peak was obtained: GNU time's %M (wait4 rusage) or polling /proc/<pid>/status VmHWM. */
  readonly rssSource: 'gnu-time' | 'vmhwm-poll' | 'none';
  /**
   * CPU time of the program, user + system, seconds (GNU time only; NaN otherwise). On a busy machine
   * CPU per unit of work is steadier than wall time: it does not count time spent waiting for a core.
   */
  readonly cpuS: number;
  readonly stdout: string;
  /** The tail of stderr (see `maxStderrChars`). */
  readonly stderr: string;
}

/**
 * Runs `command args` to completion and measures its wall time and peak RSS. With GNU time installed
 * (`/usr/bin/time`, Debian package `time`) the peak is the kernel's own maximum RSS of the child (exact);
 * otherwise /proc/<pid>/status VmHWM is polled every 20 ms (a high-water mark, so exact unless the child
 * grows in its last 20 ms). The child's own children are not counted.
 */
export async function measureChild(
  command: string,
  args: readonly string[],
  options: MeasureOptions = {},
): Promise<Measured> {
  options.signal?.throwIfAborted();
  const useTime = existsSync(GNU_TIME);
  const dir = useTime ? await mkdtemp(path.join(os.tmpdir(), 'fp-bench-time-')) : undefined;
  const timeFile = dir ? path.join(dir, 'time.txt') : undefined;
  const [file, argv] = timeFile
    ? [GNU_TIME, ['-f', '%e %M %U %S', '-o', timeFile, command, ...args]]
    : [command, [...args]];
  const maxStderr = options.maxStderrChars ?? 65_536;
  const out = typeof options.stdout === 'object' ? await open(options.stdout.file, 'w') : undefined;
  const t0 = performance.now();
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', out ? out.fd : options.stdout === 'capture' ? 'pipe' : 'ignore', 'pipe'],
  });
  // The child holds its own copy of the descriptor.
  await out?.close();
  if (child.pid !== undefined) options.onSpawn?.(child.pid);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    if (stderr.length > 2 * maxStderr) stderr = stderr.slice(-maxStderr);
  });
  let hwmKb = 0;
  const poll =
    !useTime && process.platform === 'linux'
      ? setInterval(() => {
          readFile(`/proc/${child.pid}/status`, 'utf8').then(
            (s) => {
              const m = /VmHWM:\s+(\d+) kB/.exec(s);
              if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
            },
            () => {}, // exited between ticks
          );
        }, 20)
      : undefined;
  const onAbort = () => child.kill('SIGKILL');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
      (resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code, sig) => resolve([code, sig]));
      },
    );
    const wallS = (performance.now() - t0) / 1000;
    options.signal?.throwIfAborted();
    let peakRssMb = Number.NaN;
    let cpuS = Number.NaN;
    let rssSource: Measured['rssSource'] = 'none';
    let code = exitCode;
    if (timeFile) {
      // GNU time writes "Command exited with non-zero status N" before the format line when N != 0.
      const text = await readFile(timeFile, 'utf8').catch(() => '');
      const last = text.trim().split('\n').at(-1) ?? '';
      const m = /^([\d.]+) (\d+) ([\d.]+) ([\d.]+)$/.exec(last);
      if (m) {
        peakRssMb = Number(m[2]) / 1024;
        cpuS = Number(m[3]) + Number(m[4]);
        rssSource = 'gnu-time';
      }
    } else if (hwmKb > 0) {
      peakRssMb = hwmKb / 1024;
      rssSource = 'vmhwm-poll';
    }
    if (code === null && signal === null) code = -1;
    return {
      exitCode: code,
      signal,
      wallS,
      peakRssMb,
      rssSource,
      cpuS,
      stdout,
      stderr: stderr.slice(-maxStderr),
    };
  } finally {
    if (poll) clearInterval(poll);
    options.signal?.removeEventListener('abort', onAbort);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
