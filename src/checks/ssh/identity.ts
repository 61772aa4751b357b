import { createHash } from 'node:crypto';
import ssh2, { type ParsedKey } from 'ssh2';
import { raceAbort, throwIfAborted } from '../../core/deadline.js';
import { FleetprobeError } from '../../core/errors.js';
import { readBoundedFile, readFailureReason } from '../../core/read-bounded.js';
import { coalescedStat } from './coalesced-stat.js';
import { withFastSign } from './fast-sign.js';

/**
 * An identity file that cannot be used. The message names the path and the reason only: never the key
 * text or the passphrase.
 */
export class SshIdentityError extends FleetprobeError {
  readonly path: string;
  constructor(path: string, reason: string) {
    super('FP_SSH_IDENTITY', `identity ${path}: ${reason}`);
    this.path = path;
  }
}

/** Largest identity file read, in bytes (a 16384-bit RSA key is ~13 KiB). */
export const IDENTITY_MAX_BYTES = 1024 * 1024;

interface Cached {
  mtimeMs: number;
  key: Promise<ParsedKey>;
}

/**
 * Reads and parses private keys once per file (kept while the file's mtime is unchanged), so a run over
 * 100k hosts reads and parses each identity once; parsing an encrypted key (bcrypt KDF) is slow, so this
 * matters. The parsed key objects are opaque to the rest of fleetprobe and are never serialised.
 */
export class IdentityCache {
  readonly #keys = new Map<string, Cached>();

  /**
   * The parsed private key at `path`. `passphrase` decrypts an encrypted key (never logged). The file is
   * read with `readBoundedFile` (a regular file of at most `IDENTITY_MAX_BYTES`), once for every caller
   * asking meanwhile; each caller stops waiting when its own `signal` aborts.
   */
  async load(path: string, passphrase: string | undefined, signal: AbortSignal): Promise<ParsedKey> {
    throwIfAborted(signal);
    let mtimeMs: number;
    try {
      mtimeMs = (await coalescedStat(path)).mtimeMs;
    } catch (err) {
      throw new SshIdentityError(path, `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    // Keyed by a digest of the passphrase: a different passphrase must not reuse a decrypted key.
    const secretTag =
      passphrase === undefined ? '-' : createHash('sha256').update(passphrase).digest('base64');
    const cacheKey = `${secretTag}\0${path}`;
    const cached = this.#keys.get(cacheKey);
    if (cached && cached.mtimeMs === mtimeMs) return raceAbort(cached.key, signal);
    const key = readBoundedFile(path, { maxBytes: IDENTITY_MAX_BYTES }).then(
      (text) => parseIdentity(path, text, passphrase),
      (err: unknown) => {
        throw new SshIdentityError(path, `cannot read (${readFailureReason(err)})`);
      },
    );
    const entry = { mtimeMs, key };
    this.#keys.set(cacheKey, entry);
    key.catch(() => {
      if (this.#keys.get(cacheKey) === entry) this.#keys.delete(cacheKey);
    });
    return raceAbort(key, signal);
  }
}

function parseIdentity(path: string, text: Buffer, passphrase: string | undefined): ParsedKey {
  let parsed: ParsedKey | ParsedKey[] | Error;
  try {
    parsed = ssh2.utils.parseKey(text, passphrase);
  } catch {
    parsed = new Error('unparseable');
  }
  if (parsed instanceof Error) {
    // ssh2's messages say "Encrypted private OpenSSH key detected, but no passphrase given" or
    // "Unsupported key format": reduce to a fixed vocabulary so no parser detail can leak key content.
    const reason = /passphrase|encrypted|decrypt|bad decrypt/i.test(parsed.message)
      ? 'encrypted key: wrong or missing passphrase'
      : 'not a supported private key';
    throw new SshIdentityError(path, reason);
  }
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key?.isPrivateKey()) throw new SshIdentityError(path, 'not a private key');
  return withFastSign(key);
}

/** The process-wide cache the `ssh` check uses. */
export const identityCache = new IdentityCache();
