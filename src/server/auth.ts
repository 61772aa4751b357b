import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';

export const ROLES = ['read', 'operate'] as const;
export type Role = (typeof ROLES)[number];
export interface ApiToken {
  token: string;
  role: Role;
}

/** Shortest token accepted: 16 characters (`fleetprobe token new` makes 43). */
export const MIN_TOKEN_CHARS = 16;

/** A fresh random token: 32 bytes from the system CSPRNG, base64url (43 characters). */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Parses `read:abc,operate:def` (FLEETPROBE_TOKENS) or the lines of a token file (`role:token`, `#` comments).
 * Throws `UsageError` naming `where` and the entry (a line of a file, an item of the variable); the token
 * itself is never echoed.
 */
export function parseTokens(text: string, where: string): ApiToken[] {
  const out: ApiToken[] = [];
  const lines = text.split('\n');
  lines.forEach((text, li) => {
    if (text.trim().startsWith('#')) return;
    const entries = text.split(',');
    entries.forEach((raw, ei) => {
      const line = raw.trim();
      if (line === '') return;
      const at =
        lines.length > 1
          ? `line ${li + 1}${entries.length > 1 ? ` entry ${ei + 1}` : ''}`
          : `entry ${ei + 1}`;
      const colon = line.indexOf(':');
      const role = line.slice(0, colon) as Role;
      const token = line.slice(colon + 1).trim();
      if (colon === -1 || !ROLES.includes(role)) {
        throw new UsageError(`${where}: ${at} must be "read:<token>" or "operate:<token>"`);
      }
      if (token.length < MIN_TOKEN_CHARS || /\s/.test(token)) {
        throw new UsageError(
          `${where}: ${at}: the ${role} token has ${token.length} characters; tokens need at least ` +
            `${MIN_TOKEN_CHARS}, without spaces (make one with "fleetprobe token new")`,
        );
      }
      out.push({ token, role });
    });
  });
  return out;
}

/** Tokens from `--token-file` and/or the FLEETPROBE_TOKENS environment variable. */
export function loadTokens(opts: { tokenFile?: string; env?: NodeJS.ProcessEnv }): ApiToken[] {
  const tokens: ApiToken[] = [];
  if (opts.tokenFile) {
    let text: string;
    try {
      text = readFileSync(opts.tokenFile, 'utf8');
    } catch (err) {
      throw new UsageError(`--token-file ${opts.tokenFile}: cannot read it`, { cause: err });
    }
    tokens.push(...parseTokens(text, opts.tokenFile));
  }
  const env = (opts.env ?? process.env).FLEETPROBE_TOKENS;
  if (env) tokens.push(...parseTokens(env, 'FLEETPROBE_TOKENS'));
  return tokens;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Looks a bearer token up in constant time per token. `operate` implies `read`. */
export class TokenAuth {
  readonly #tokens: { digest: Buffer; role: Role }[];
  constructor(tokens: readonly ApiToken[]) {
    this.#tokens = tokens.map((t) => ({ digest: digest(t.token), role: t.role }));
  }
  get enabled(): boolean {
    return this.#tokens.length > 0;
  }
  /** The role of the `Authorization: Bearer <token>` header, or undefined when missing or unknown. */
  roleOf(header: string | undefined): Role | undefined {
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) return undefined;
    const d = digest(m[1]!);
    let role: Role | undefined;
    for (const t of this.#tokens) if (timingSafeEqual(t.digest, d)) role = role === 'operate' ? role : t.role;
    return role;
  }
}

export function roleAllows(have: Role, need: Role): boolean {
  return have === 'operate' || need === 'read';
}
