import tls from 'node:tls';
import { raceAbort } from '../../core/deadline.js';
import { CheckArgsError } from '../../core/errors.js';
import { readBoundedFile, readFailureReason } from '../../core/read-bounded.js';

/** Largest CA bundle read, in bytes (a full system bundle is ~250 KiB). */
export const CA_MAX_BYTES = 4 * 1024 * 1024;

const contexts = new Map<string, Promise<tls.SecureContext>>();

/**
 * The TLS context for a CA file (or the system roots when `caPath` is undefined), created once per process
 * and path and shared by every connection: building a context per connection re-parses the CA for each
 * target. The file is read with `readBoundedFile` (a regular file of at most `CA_MAX_BYTES`: a FIFO or
 * `/dev/zero` is refused at once). A CA file that cannot be read rejects with `CheckArgsError` (every
 * target of the run errors alike). The shared read is bounded, so it is not tied to one caller's signal:
 * each caller stops waiting when its own `signal` aborts (rejecting with its reason).
 * The trap: an edited CA file is not re-read until the process restarts.
 */
export function secureContextFor(
  caPath: string | undefined,
  signal?: AbortSignal,
): Promise<tls.SecureContext> {
  const key = caPath ?? '';
  let ctx = contexts.get(key);
  if (!ctx) {
    ctx =
      caPath === undefined
        ? Promise.resolve(tls.createSecureContext({}))
        : readBoundedFile(caPath, { maxBytes: CA_MAX_BYTES }).then(
            (ca) => tls.createSecureContext({ ca }),
            (err: unknown) => {
              throw new CheckArgsError(`ca: cannot read ${caPath}: ${readFailureReason(err)}`, {
                cause: err,
              });
            },
          );
    ctx.catch(() => {}); // each caller awaits it; never an unhandled rejection
    contexts.set(key, ctx);
  }
  return raceAbort(ctx, signal);
}
