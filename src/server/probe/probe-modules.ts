import type { Check } from '../../checks/check.js';
import type { CheckRegistry } from '../../checks/registry.js';
import type { ProbeModulesConfig } from '../../config/probe-modules.js';
import { UsageError } from '../../core/errors.js';
import { ApiError } from '../errors.js';
import { type RunArgsPolicy, validateRunArgs } from '../validate-run-args.js';

/**
 * `maxBytes` of an http module that sets none (the check's own default is 64 KiB). blackbox_exporter reads
 * the whole body and a probe fails when the body is cut at `maxBytes` (see `probeSucceeded`), so a probe
 * reads further than a fleet-wide run: pages up to this size pass as they do under blackbox.
 */
export const PROBE_HTTP_MAX_BYTES = 8 * 1024 * 1024;

/** A module checked against the server: its check is known and its arguments pass the API's rules. */
export interface ProbeModule {
  readonly name: string;
  readonly check: Check<unknown>;
  /** The arguments as configured (credential names, not paths): validated again with each target. */
  readonly args: Readonly<Record<string, unknown>>;
  /** The module's deadline in ms: its `timeout`, else the check's `timeoutMs`. */
  readonly timeoutMs: number;
}

/**
 * Checks every module against the server's checks, allow-list and named credentials, once, at start.
 * @throws UsageError naming the module (unknown check, bad argument, a path instead of a credential name,
 * an address outside the allow-list).
 */
export function resolveProbeModules(
  config: ProbeModulesConfig,
  registry: CheckRegistry,
  policy: RunArgsPolicy,
): ReadonlyMap<string, ProbeModule> {
  const out = new Map<string, ProbeModule>();
  for (const [name, mod] of Object.entries(config)) {
    if (!registry.has(mod.check)) {
      const known = registry.list().map((c) => c.name);
      throw new UsageError(`probe module ${name}: unknown check "${mod.check}" (known: ${known.join(', ')})`);
    }
    const check = registry.get(mod.check);
    const args =
      check.name === 'http' && mod.args.maxBytes === undefined
        ? { ...mod.args, maxBytes: PROBE_HTTP_MAX_BYTES }
        : mod.args;
    try {
      validateRunArgs(check, args, policy);
    } catch (err) {
      if (err instanceof ApiError)
        throw new UsageError(`probe module ${name}: ${err.message.replace(/^body\./, '')}`, { cause: err });
      throw err;
    }
    out.set(name, Object.freeze({ name, check, args, timeoutMs: mod.timeout ?? check.timeoutMs }));
  }
  return out;
}
