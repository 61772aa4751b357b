import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import { CheckArgsError } from '../../core/errors.js';

const contexts = new Map<string, Promise<tls.SecureContext>>();

/**
 * The TLS context for a CA file (or the system roots when `caPath` is undefined), created once per process
 * and path and shared by every connection: building a context per connection re-parses the CA for each
 * target. A CA file that cannot be read rejects with `CheckArgsError` (every target of the run errors
 * alike). The trap: an edited CA file is not re-read until the process restarts.
 */
export function secureContextFor(caPath: string | undefined): Promise<tls.SecureContext> {
  const key = caPath ?? '';
  let ctx = contexts.get(key);
  if (!ctx) {
    ctx =
      caPath === undefined
        ? Promise.resolve(tls.createSecureContext({}))
        : readFile(caPath).then(
            (ca) => tls.createSecureContext({ ca }),
            (err: unknown) => {
              throw new CheckArgsError(`ca: cannot read ${caPath}: ${String(err)}`, { cause: err });
            },
          );
    ctx.catch(() => {}); // each caller awaits it; never an unhandled rejection
    contexts.set(key, ctx);
  }
  return ctx;
}
