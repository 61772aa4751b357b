import type { Logger } from 'pino';
import { OwnerLease } from '../runs/owner-lease.js';
import { openStore, type Store } from '../store/store.js';

/** The store of `fleetprobe run --db`, with this process's lease on the run it executes. */
export interface RunStore {
  readonly store: Store;
  readonly lease: OwnerLease;
  /** Ends the lease, then closes the store. */
  close(): Promise<void>;
}

/**
 * `--db <url>`: opens the store and takes this process's lease (renewed every third of `leaseTtlMs`), so
 * that a server starting against the same store leaves the run alone while this process lives. Loaded on
 * demand: runs without a store never load the database drivers.
 */
export async function openRunStore(
  url: string,
  opts: { leaseTtlMs?: number; log?: Logger },
): Promise<RunStore> {
  const store = await openStore(url, opts.log ? { log: opts.log } : {});
  const lease = new OwnerLease(store, { ttlMs: opts.leaseTtlMs, log: opts.log });
  try {
    await lease.start();
  } catch (err) {
    await store.close();
    throw err;
  }
  return {
    store,
    lease,
    async close() {
      await lease.stop();
      await store.close();
    },
  };
}
