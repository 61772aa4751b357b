import { openTargets } from '../../targets/open-targets.js';
import type { ResolveFn } from '../../targets/system-resolver.js';
import type { Target } from '../../targets/target.js';
import type { TargetInput } from '../../targets/target-input.js';
import type { Inventory } from '../types.js';
import { labelMerger } from './inventory-file.js';

/**
 * Targets as `fleetprobe run` takes them (specs, CIDR blocks, targets files) and DNS names expanded
 * `--resolve` style, through `openTargets`: every call validates the whole selection again (files re-read,
 * names re-resolved) before the first target is yielded, so a bad line fails the round before any check
 * starts, and a changed file is followed. Errors are `TargetParseError` (`file:line`, `--resolve <name>`).
 */
export class OpenTargetsInventory implements Inventory {
  readonly name: string;
  readonly #specs: readonly TargetInput[];
  readonly #files: readonly string[];
  readonly #names: readonly string[];
  readonly #resolve: ResolveFn | undefined;
  readonly #label: (target: Target) => Target;

  constructor(opts: {
    name: string;
    specs?: readonly TargetInput[];
    files?: readonly string[];
    /** Names whose A/AAAA records are targets; needs `resolve`. */
    resolveNames?: readonly string[];
    resolve?: ResolveFn;
    labels: Readonly<Record<string, string>>;
  }) {
    this.name = opts.name;
    this.#specs = opts.specs ?? [];
    this.#files = opts.files ?? [];
    this.#names = opts.resolveNames ?? [];
    this.#resolve = opts.resolve;
    this.#label = labelMerger(opts.labels);
  }

  async *targets(signal: AbortSignal): AsyncGenerator<Target, void, undefined> {
    const source = await openTargets({
      specs: this.#specs,
      files: this.#files,
      resolveDomains: this.#names,
      resolve: this.#resolve,
      signal,
    });
    try {
      for await (const target of source.targets(signal)) yield this.#label(target);
    } finally {
      await source.close();
    }
  }
}
