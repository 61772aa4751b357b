import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { UsageError } from '../core/errors.js';

export const ROLES = ['read', 'operate'] as const;
export type Role = (typeof ROLES)[number];
export interface ApiToken {
  token: string;
  role: Role;
}

/** Parses `read:abc,operate:def` (FLEETPROBE_TOKENS) or the lines of a token file (`role:token`, `#` comments). */
export function parseTokens(text: string, where: string): ApiToken[] {
  const out: ApiToken[] = [];
  const items = text.split(/[\n,]/);
  items.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const role = line.slice(0, colon) as Role;
    const token = line.slice(colon + 1).trim();
    if (colon === -1 || !ROLES.includes(role) || token.length < 8) {
      throw new UsageError(
        `${where}: entry ${i + 1} must be "read:<token>" or "operate:<token>" (token of 8+ characters)`,
      );
    }
    out.push({ token, role });
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
