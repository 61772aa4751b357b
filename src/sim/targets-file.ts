import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { FleetModel } from './fleet-model.js';

/**
 * Writes the fleet as a fleetprobe targets file, `{"address","name"}` per line (JSONL), streamed.
 * Runs need names: HTTPS sends SNI `h<i>.<zone>` (the sim's leaves are wildcards for the zone).
 */
export async function writeTargetsFile(model: FleetModel, file: string, signal?: AbortSignal): Promise<void> {
  const out = createWriteStream(file);
  try {
    for (let i = 0; i < model.size; i++) {
      signal?.throwIfAborted();
      const h = model.host(i);
      if (!out.write(`{"address":"${h.address}","name":"${h.name}"}\n`)) {
        await once(out, 'drain', signal ? { signal } : {});
      }
    }
    out.end();
    await once(out, 'finish');
  } catch (err) {
    out.destroy();
    throw err;
  }
}
