import { UsageError } from '../core/errors.js';
import { ARG_ROLES, type Check } from './check.js';

/** Name -> check. Built-ins register in `builtins.ts`; `--check-module` adds user checks. */
export class CheckRegistry {
  #checks = new Map<string, Check<unknown>>();

  // biome-ignore lint/suspicious/noExplicitAny: a registry holds checks of every argument type
  register(check: Check<any>): void {
    if (this.#checks.has(check.name)) throw new UsageError(`check "${check.name}" is already registered`);
    for (const [arg, role] of Object.entries(check.argRoles ?? {})) {
      if (!(ARG_ROLES as readonly string[]).includes(role)) {
        throw new UsageError(
          `check "${check.name}": argument "${arg}" has an unknown role "${role}" (roles: ${ARG_ROLES.join(', ')})`,
        );
      }
    }
    this.#checks.set(check.name, check as Check<unknown>);
  }

  get(name: string): Check<unknown> {
    const check = this.#checks.get(name);
    if (!check) {
      throw new UsageError(
        `unknown check "${name}" (available: ${[...this.#checks.keys()].sort().join(', ')})`,
      );
    }
    return check;
  }

  has(name: string): boolean {
    return this.#checks.has(name);
  }

  list(): Check<unknown>[] {
    return [...this.#checks.values()].sort((a, b) => a.name.localeCompare(b.name));
  }
}
