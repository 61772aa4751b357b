import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * OpenSSH `known_hosts` parsing and matching (sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT").
 *
 * Supported: comma-separated host patterns, `[host]:port` names for ports other than 22, hashed
 * `|1|salt|hash` entries (HMAC-SHA1 of the name keyed by the salt), negated patterns `!pat`, wildcards
 * `*` / `?`, `@revoked` (a presented key listed as revoked is refused) and `@cert-authority` (host
 * certificates are not supported: such lines are skipped and counted in `ignoredCertAuthorities`).
 * Matching is case-insensitive, as in OpenSSH. Malformed lines are skipped and counted in `invalidLines`.
 *
 * Lookup cost: literal names are indexed (O(1)); wildcard and hashed entries are scanned per lookup
 * (a hashed entry costs one HMAC-SHA1 per lookup, since each has its own salt).
 */

export type HostKeyVerdict =
  /** A key of the presented type and value is listed for the host. */
  | 'match'
  /** Keys are listed for the host, none equal to the presented one: a changed key. */
  | 'mismatch'
  /** The presented key is listed under `@revoked`. */
  | 'revoked'
  /** Nothing is listed for the host. */
  | 'unknown';

export interface KnownHostKey {
  /** Key type, e.g. `ssh-ed25519`. */
  readonly type: string;
  /** The SSH wire-format public key blob (the base64-decoded second field). */
  readonly blob: Buffer;
}

interface Entry extends KnownHostKey {
  readonly marker: 'revoked' | undefined;
  /** Positive patterns (lowercase); empty for hashed entries. */
  readonly patterns: readonly string[];
  /** Negated patterns (lowercase, without `!`). */
  readonly negated: readonly string[];
  readonly hashed: { readonly salt: Buffer; readonly hash: Buffer } | undefined;
}

/** The name a host is listed under: `host` on port 22, `[host]:port` otherwise (IPv6 unbracketed on 22). */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`;
}

/** `SHA256:<base64 without padding>` of a key blob, as `ssh-keygen -l` prints it. Public information. */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type stored inside a wire-format blob (its first SSH string), or undefined if malformed. */
export function blobKeyType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  return blob.toString('latin1', 4, 4 + len);
}

/**
 * One known_hosts line for `host`/`port` and the key. With `hash`, the name is hashed (`|1|salt|hash`) as
 * `ssh-keygen -H` / `HashKnownHosts yes` write it.
 */
export function formatKnownHostsLine(host: string, port: number, key: KnownHostKey, hash = false): string {
  const name = knownHostsName(host, port);
  let field = name;
  if (hash) {
    const salt = randomBytes(20);
    const digest = createHmac('sha1', salt).update(name).digest();
    field = `|1|${salt.toString('base64')}|${digest.toString('base64')}`;
  }
  return `${field} ${key.type} ${key.blob.toString('base64')}`;
}

/** OpenSSH's `match_pattern`: `*` any run, `?` one character; the whole name must match. */
export function matchPattern(name: string, pattern: string): boolean {
  // Iterative wildcard match with backtracking on the last `*` (linear in practice).
  let n = 0;
  let p = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    const pc = pattern[p];
    if (pc === '?' || (pc !== undefined && pc !== '*' && pc === name[n])) {
      n++;
      p++;
    } else if (pc === '*') {
      starP = p++;
      starN = n;
    } else if (starP >= 0) {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

function isWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}

/** A parsed known_hosts file. Immutable except through `add` (used after an accept-new append). */
export class KnownHosts {
  /** Lines that could not be parsed (skipped). */
  invalidLines = 0;
  /** `@cert-authority` lines: host certificates are not supported, so these are ignored. */
  ignoredCertAuthorities = 0;
  readonly #byName = new Map<string, Entry[]>();
  readonly #scan: Entry[] = [];
  readonly #revoked: Entry[] = [];

  /** Parses the text of a known_hosts file. Never throws: bad lines are counted and skipped. */
  static parse(text: string): KnownHosts {
    const kh = new KnownHosts();
    for (const raw of text.split('\n')) kh.#addLine(raw);
    return kh;
  }

  /** Adds one line (same syntax as the file). Returns false when the line was not usable. */
  addLine(line: string): boolean {
    return this.#addLine(line);
  }

  #addLine(raw: string): boolean {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return false;
    const fields = line.split(/[ \t]+/);
    let marker: 'revoked' | undefined;
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@cert-authority') {
        this.ignoredCertAuthorities++;
        return false;
      }
      if (m !== '@revoked') {
        this.invalidLines++;
        return false;
      }
      marker = 'revoked';
    }
    const [hostField, type, b64] = fields;
    if (!hostField || !type || !b64 || !/^[A-Za-z0-9+/]+=*$/.test(b64)) {
      this.invalidLines++;
      return false;
    }
    const blob = Buffer.from(b64, 'base64');
    if (blobKeyType(blob) !== type) {
      this.invalidLines++;
      return false;
    }
    let hashed: Entry['hashed'];
    const patterns: string[] = [];
    const negated: string[] = [];
    if (hostField.startsWith('|1|')) {
      const [, , salt, hash] = hostField.split('|');
      if (!salt || !hash) {
        this.invalidLines++;
        return false;
      }
      hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
      if (hashed.hash.length !== 20) {
        this.invalidLines++;
        return false;
      }
    } else {
      for (const pat of hostField.toLowerCase().split(',')) {
        if (pat === '') continue;
        if (pat.startsWith('!')) negated.push(pat.slice(1));
        else patterns.push(pat);
      }
      if (patterns.length === 0) {
        this.invalidLines++;
        return false;
      }
    }
    const entry: Entry = { marker, type, blob, patterns, negated, hashed };
    if (marker === 'revoked') {
      this.#revoked.push(entry);
    } else if (hashed || negated.length > 0 || patterns.some(isWildcard)) {
      this.#scan.push(entry);
    } else {
      for (const p of patterns) {
        const list = this.#byName.get(p);
        if (list) list.push(entry);
        else this.#byName.set(p, [entry]);
      }
    }
    return true;
  }

  /** The keys listed for any of `names` (each already in `knownHostsName` form), excluding revoked ones. */
  keysFor(names: readonly string[]): KnownHostKey[] {
    const out: KnownHostKey[] = [];
    for (const name of names) {
      for (const e of this.#byName.get(name) ?? []) out.push(e);
      for (const e of this.#scan) if (entryMatches(e, name)) out.push(e);
    }
    return out;
  }

  /**
   * Checks the presented key for a host reached as `names` (e.g. its hostname and its address, both in
   * `knownHostsName` form). A revoked key wins over everything; then an exact match; then `mismatch` if
   * any key (of any type) is listed; else `unknown`.
   */
  verify(names: readonly string[], key: KnownHostKey): HostKeyVerdict {
    for (const e of this.#revoked) {
      if (sameKey(e, key) && names.some((n) => entryMatches(e, n))) return 'revoked';
    }
    const listed = this.keysFor(names);
    if (listed.length === 0) return 'unknown';
    return listed.some((k) => sameKey(k, key)) ? 'match' : 'mismatch';
  }
}

function sameKey(a: KnownHostKey, b: KnownHostKey): boolean {
  return a.type === b.type && a.blob.length === b.blob.length && a.blob.equals(b.blob);
}

function entryMatches(e: Entry, name: string): boolean {
  if (e.hashed) {
    const digest = createHmac('sha1', e.hashed.salt).update(name).digest();
    return timingSafeEqual(digest, e.hashed.hash);
  }
  if (e.negated.some((p) => matchPattern(name, p))) return false;
  return e.patterns.some((p) => matchPattern(name, p));
}
