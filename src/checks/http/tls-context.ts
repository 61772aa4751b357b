import type { SecureContext } from 'node:tls';
import { raceAbort } from '../../core/deadline.js';
import { CheckArgsError } from '../../core/errors.js';
import { readBoundedFile, readFailureReason } from '../../core/read-bounded.js';

/** Largest CA bundle read, in bytes (a full system bundle is ~250 KiB). */
export const CA_MAX_BYTES = 4 * 1024 * 1024;

type Tls = typeof import('node:tls');

/** What an https exchange connects with: node:tls and the shared context for its CA. */
export interface TlsClient {
  readonly tls: Tls;
  readonly context: SecureContext;
}

let tlsModule: Promise<Tls> | undefined;

/**
 * node:tls, loaded by the first https check: plain http runs, and each of their worker threads, start without it
 * (measured 2026-12-01 under callgrind: ~1% fewer instructions for a 1-target run; importing it alone takes
 * ~25 ms, but most of that is crypto, which a run loads anyway).
 */
function loadTls(): Promise<Tls> {
  tlsModule ??= import('node:tls');
  return tlsModule;
}

const clients = new Map<string, Promise<TlsClient>>();

/**
 * node:tls with the TLS context for a CA file (or the system roots when `caPath` is undefined), created once
 * per process and path and shared by every connection: building a context per connection re-parses the CA for
 * each target. The file is read with `readBoundedFile` (a regular file of at most `CA_MAX_BYTES`: a FIFO or
 * `/dev/zero` is refused at once). A CA file that cannot be read rejects with `CheckArgsError` (every
 * target of the run errors alike). The shared read is bounded, so it is not tied to one caller's signal:
 * each caller stops waiting when its own `signal` aborts (rejecting with its reason).
 * The trap: an edited CA file is not re-read until the process restarts.
 */
export function tlsClientFor(caPath: string | undefined, signal?: AbortSignal): Promise<TlsClient> {
  const key = caPath ?? '';
  let client = clients.get(key);
  if (!client) {
    const ca =
      caPath === undefined
        ? Promise.resolve(undefined)
        : readBoundedFile(caPath, { maxBytes: CA_MAX_BYTES }).catch((err: unknown) => {
            throw new CheckArgsError(`ca: cannot read ${caPath}: ${readFailureReason(err)}`, {
              cause: err,
            });
          });
    client = Promise.all([loadTls(), ca]).then(([tls, ca]) => ({
      tls,
      context: tls.createSecureContext(ca === undefined ? {} : { ca }),
    }));
    client.catch(() => {}); // each caller awaits it; never an unhandled rejection
    clients.set(key, client);
  }
  return raceAbort(client, signal);
}
