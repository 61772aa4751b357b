import { stat } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import type { CredentialKind } from '../checks/check.js';
import { UsageError } from '../core/errors.js';

/**
 * The server-side files API runs may use, each under a name (name -> absolute path). API callers refer to
 * the names (`"identity": "prod"`), never to paths; the server's operator sets them with
 * `fleetprobe server --ssh-identity prod=/etc/fleetprobe/id_ed25519` (and `--known-hosts`, `--ca`,
 * `--check-module`) or a config file. A credential named `default` is used when an API run leaves the
 * argument out. `checkModules` are user checks loaded at server start; a run names them as its `check`.
 */
export interface Credentials {
  sshIdentities: Readonly<Record<string, string>>;
  knownHosts: Readonly<Record<string, string>>;
  caBundles: Readonly<Record<string, string>>;
  checkModules: Readonly<Record<string, string>>;
}

export type CredentialGroup = keyof Credentials;

/**
 * The groups of `credentials:` (the server's named files, as `--ssh-identity` & co. give them). Only
 * validated by the config (names, paths); whoever uses a credential checks and reads its file.
 */
export const CREDENTIAL_GROUPS = [
  'sshIdentities',
  'knownHosts',
  'caBundles',
  'checkModules',
] as const satisfies readonly CredentialGroup[];

/** Where each credential kind a check argument can declare (`ArgRole`) lives in `Credentials`. */
export const CREDENTIAL_GROUP: Readonly<Record<CredentialKind, CredentialGroup>> = {
  sshIdentity: 'sshIdentities',
  knownHosts: 'knownHosts',
  caBundle: 'caBundles',
};

/** The command-line flag of each group, and the words messages use for one of its entries. */
export const CREDENTIAL_FLAGS: Readonly<Record<CredentialGroup, { flag: string; noun: string }>> = {
  sshIdentities: { flag: '--ssh-identity', noun: 'SSH identity' },
  knownHosts: { flag: '--known-hosts', noun: 'known_hosts store' },
  caBundles: { flag: '--ca', noun: 'CA bundle' },
  checkModules: { flag: '--check-module', noun: 'check module' },
};

/** Credential names: a letter or digit, then letters, digits, `.`, `_`, `-` (at most 64). Never a path. */
export const CREDENTIAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function emptyCredentials(): Credentials {
  return { sshIdentities: {}, knownHosts: {}, caBundles: {}, checkModules: {} };
}

/** The path configured under `name`, or undefined (own keys only: `constructor` is not a name). */
export function credentialPath(creds: Credentials, group: CredentialGroup, name: string): string | undefined {
  const map = creds[group];
  return Object.hasOwn(map, name) ? map[name] : undefined;
}

/**
 * Adds one `name=path` flag value to `creds[group]` (commander's collector for a repeatable option); the
 * path is resolved against the current directory. A bad form, a bad name or a name given twice is a
 * `UsageError` naming the flag.
 */
export function addCredentialFlag(creds: Credentials, group: CredentialGroup, value: string): Credentials {
  const { flag } = CREDENTIAL_FLAGS[group];
  const eq = value.indexOf('=');
  const name = eq < 0 ? '' : value.slice(0, eq);
  const path = eq < 0 ? '' : value.slice(eq + 1);
  if (eq < 0 || path === '') throw new UsageError(`${flag} ${value}: expected name=path`);
  if (!CREDENTIAL_NAME.test(name)) {
    throw new UsageError(`${flag} ${value}: bad name "${name}" (letters, digits, ".", "_", "-")`);
  }
  if (credentialPath(creds, group, name) !== undefined)
    throw new UsageError(`${flag} ${value}: the name "${name}" is given twice`);
  return { ...creds, [group]: { ...creds[group], [name]: resolvePath(process.cwd(), path) } };
}

/**
 * Checks at server start that every configured file can serve: identities, CA bundles and check modules
 * are existing regular files; a known_hosts store is a regular file or does not exist yet (`accept-new`
 * creates it) in an existing directory. A bad entry is a one-line `UsageError` (exit 2) naming it: the
 * operator hears at once, not an API caller at the first run.
 */
export async function checkCredentialFiles(creds: Credentials): Promise<void> {
  for (const group of CREDENTIAL_GROUPS) {
    const { flag } = CREDENTIAL_FLAGS[group];
    for (const [name, path] of Object.entries(creds[group])) {
      if (!CREDENTIAL_NAME.test(name)) throw new UsageError(`${flag} ${name}=${path}: bad name "${name}"`);
      const problem = await fileProblem(path, group === 'knownHosts');
      if (problem) throw new UsageError(`${flag} ${name}=${path}: ${problem}`);
    }
  }
}

async function fileProblem(path: string, mayBeMissing: boolean): Promise<string | undefined> {
  try {
    const st = await stat(path);
    return st.isFile() ? undefined : 'not a regular file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    if (code !== 'ENOENT' || !mayBeMissing)
      return code === 'ENOENT' ? 'no such file' : `cannot read (${code})`;
  }
  try {
    if ((await stat(dirname(path))).isDirectory()) return undefined;
  } catch {
    // reported below
  }
  return `its directory ${dirname(path)} does not exist`;
}
