import { type ArgRole, type Check, isCredentialKind } from '../checks/check.js';
import { validateCheckArgs } from '../checks/validate-args.js';
import {
  CREDENTIAL_FLAGS,
  CREDENTIAL_GROUP,
  type Credentials,
  credentialPath,
} from '../config/credentials.js';
import { CheckArgsError, TargetParseError } from '../core/errors.js';
import { type ParsedSpec, parseTargetSpec, specCount } from '../targets/spec.js';
import { parseTargetInput, type TargetInput } from '../targets/target-input.js';
import type { AllowList } from './allow-list.js';
import { ApiError } from './errors.js';

/** What the server holds an API run's arguments against. */
export interface RunArgsPolicy {
  /** The server's allow-list (`--allow-targets`); absent = any address. */
  allowList?: AllowList | undefined;
  /** The server's named credentials. */
  credentials: Credentials;
}

/**
 * Validates the arguments of an API run the way the server must, applying the rule of each role the check
 * declares in `argRoles` (see `ArgRole`), then its schema. Returns the validated arguments.
 * - credentials (`sshIdentity`, `knownHosts`, `caBundle`): the value must be the name (or list of names) of
 *   a credential configured on the server; it is replaced by its path. Anything else, a path above all, is
 *   a 400 naming the argument; nothing is looked up on disk, so the answer never tells whether a path
 *   exists. Left out: the credential named `default`; with none, an argument whose schema would default to
 *   a server-side file (ssh's `~/.ssh/known_hosts`) is refused too.
 * - `serverAgent`: refused when given (400); off otherwise. `serverEnv`: refused when given (400).
 * - `address`: under an allow-list, each address must lie inside it and a hostname is refused, exactly as
 *   for targets (403 naming the argument).
 * The stored run keeps the arguments as given (names, not paths), so a resumed run resolves them again.
 * @throws ApiError 400 (`body.args.<name>: ...`) or 403.
 */
export function validateRunArgs(check: Check<unknown>, raw: unknown, policy: RunArgsPolicy): unknown {
  const given: Record<string, unknown> = { ...((raw ?? {}) as Record<string, unknown>) };
  const roles = Object.entries(check.argRoles ?? {}) as Array<[string, ArgRole]>;
  const leftOut = new Set<string>();
  for (const [arg, role] of roles) {
    const where = `body.args.${arg}`;
    if (role === 'serverAgent') {
      if (given[arg] !== undefined) {
        throw new ApiError(
          'bad_request',
          `${where}: not available through the API (it would use the server's own SSH agent)`,
        );
      }
      given[arg] = false;
    } else if (role === 'serverEnv') {
      if (given[arg] !== undefined) {
        throw new ApiError(
          'bad_request',
          `${where}: not available through the API (it names an environment variable of the server)`,
        );
      }
    } else if (isCredentialKind(role)) {
      const group = CREDENTIAL_GROUP[role];
      if (given[arg] === undefined) {
        const fallback = credentialPath(policy.credentials, group, 'default');
        if (fallback === undefined) leftOut.add(arg);
        else given[arg] = fallback;
      } else {
        given[arg] = resolveNames(given[arg], policy.credentials, group, where);
      }
    }
  }

  let args: unknown;
  try {
    args = validateCheckArgs(check, given);
  } catch (err) {
    if (err instanceof CheckArgsError)
      throw new ApiError('bad_request', `body.args: ${err.message}`, { cause: err });
    throw err;
  }

  for (const [arg, role] of roles) {
    const where = `body.args.${arg}`;
    if (leftOut.has(arg) && isCredentialKind(role)) {
      const value = (args as Record<string, unknown>)[arg];
      if (value !== undefined && !(Array.isArray(value) && value.length === 0)) {
        const group = CREDENTIAL_GROUP[role];
        throw new ApiError(
          'bad_request',
          `${where}: required through the API: the name of a ${CREDENTIAL_FLAGS[group].noun} configured on the server (${configured(policy.credentials, group)}; "default" is used when the argument is left out)`,
        );
      }
    }
    if (role === 'address' && policy.allowList) checkAddresses(given[arg], policy.allowList, where);
  }
  return args;
}

function resolveNames(
  value: unknown,
  creds: Credentials,
  group: keyof typeof CREDENTIAL_FLAGS,
  where: string,
): string | string[] {
  const { noun } = CREDENTIAL_FLAGS[group];
  const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
  if (!list) throw new ApiError('bad_request', `${where}: expected the name of a ${noun}`);
  const paths = list.map((item) => {
    const name = typeof item === 'string' ? item.trim() : item;
    const path = typeof name === 'string' ? credentialPath(creds, group, name) : undefined;
    if (path === undefined) {
      throw new ApiError(
        'bad_request',
        `${where}: ${JSON.stringify(name)} is not the name of a ${noun} configured on the server (${configured(creds, group)}); paths are not accepted through the API`,
      );
    }
    return path;
  });
  return Array.isArray(value) || paths.length > 1 ? paths : paths[0]!;
}

function configured(creds: Credentials, group: keyof typeof CREDENTIAL_FLAGS): string {
  const names = Object.keys(creds[group]).sort();
  return names.length > 0
    ? `configured: ${names.join(', ')}`
    : `none configured; see ${CREDENTIAL_FLAGS[group].flag}`;
}

function checkAddresses(value: unknown, allow: AllowList, where: string): void {
  if (value === undefined) return;
  const list = Array.isArray(value) ? value : [value];
  list.forEach((item, i) => {
    const at = Array.isArray(value) ? `${where}[${i}]` : where;
    if (typeof item !== 'string') throw new ApiError('bad_request', `${at}: expected an address`);
    let refusal: string | null;
    try {
      refusal = allow.refusal(parseTargetSpec(item, at));
    } catch (err) {
      if (err instanceof TargetParseError) throw new ApiError('bad_request', err.message, { cause: err });
      throw err;
    }
    if (refusal) throw new ApiError('forbidden', `${at}: "${item}" is ${refusal}`);
  });
}

/**
 * Parses the targets of an API request (`body.targets`, specs or objects) and holds each against the
 * allow-list. Returns how many targets they are.
 * @throws ApiError 400 naming `body.targets[i]` for a bad target, 403 for one outside the allow-list.
 */
export function validateTargets(
  targets: readonly TargetInput[],
  allow: AllowList | undefined,
  where = 'body.targets',
): bigint {
  let total = 0n;
  targets.forEach((input, i) => {
    let spec: ParsedSpec;
    try {
      spec = parseTargetInput(input, `${where}[${i}]`);
    } catch (err) {
      if (err instanceof TargetParseError) throw new ApiError('bad_request', err.message, { cause: err });
      throw err;
    }
    const refusal = allow?.refusal(spec);
    const text = typeof input === 'string' ? input : (input.address ?? input.name ?? '');
    if (refusal) throw new ApiError('forbidden', `${where}[${i}]: "${text}" is ${refusal}`);
    total += specCount(spec);
  });
  return total;
}
