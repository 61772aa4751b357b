import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** user + system (+ the reaped children's, with `reaped`) from a /proc stat file, seconds; NaN when unreadable. */
function statCpuSeconds(file: string, reaped = false): number {
  try {
    const stat = readFileSync(file, 'utf8');
    // Fields after the command name: state(0) ... utime(11) stime(12) cutime(13) cstime(14).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = Number(f[11]) + Number(f[12]);
    return (reaped ? own + Number(f[13]) + Number(f[14]) : own) / USER_HZ;
  } catch {
    return Number.NaN;
  }
}

/** CPU time (user + system) a live process has used so far, seconds; NaN when it cannot be read. */
export function processCpuSeconds(pid: number | undefined): number {
  return pid === undefined ? Number.NaN : statCpuSeconds(`/proc/${pid}/stat`);
}

/** As `processCpuSeconds`, plus its children that exited and were reaped (sshd's per-connection processes). */
export function processAndReapedCpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/stat`, true);
}

/** CPU time of a live process's main thread alone, seconds; NaN when it cannot be read. */
export function mainThreadCpuSeconds(pid: number): number {
  return statCpuSeconds(`/proc/${pid}/task/${pid}/stat`);
}

/**
 * CPU time (user + system) of a live process and its live children (one level: nginx's master and workers),
 * seconds. Children that already exited are not counted: sample while the tree is running.
 */
export function processTreeCpuSeconds(pid: number): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // gone, or no children file: the process alone
  }
  return [pid, ...children].reduce((sum, p) => sum + (processCpuSeconds(p) || 0), 0);
}
