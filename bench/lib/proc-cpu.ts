import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/** CPU time (user + system) a live process has used so far, seconds; NaN when it cannot be read. */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return Number.NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name: state(0) ... utime(11) stime(12).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return Number.NaN;
  }
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
