import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';

const inFlight = new Map<string, Promise<Stats>>();

/**
 * `fs.stat`, shared by every caller asking about the same path while one call is in flight: hundreds of
 * checks starting together cost one stat of the identity and known_hosts files, not one each, yet a file
 * changed on disk is still seen by the next check that starts after the change.
 */
export function coalescedStat(path: string): Promise<Stats> {
  let p = inFlight.get(path);
  if (!p) {
    p = stat(path);
    inFlight.set(path, p);
    const clear = () => {
      if (inFlight.get(path) === p) inFlight.delete(path);
    };
    p.then(clear, clear);
  }
  return p;
}
