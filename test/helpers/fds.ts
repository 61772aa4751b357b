import { readdir, readlink } from 'node:fs/promises';

/** The fds of this process that point at `path` (Linux /proc). */
export async function fdsOn(path: string): Promise<number> {
  let n = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')) === path) n++;
  }
  return n;
}
