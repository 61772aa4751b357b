import type { Logger } from 'pino';
import type { CheckRegistry } from '../checks/registry.js';
import type { FleetprobeConfig } from './config.js';
import { ConfigError } from './config-error.js';
import { loadConfig } from './load-config.js';

/** What a successful load or reload changed, by monitor and inventory name (the 200 answer of a reload). */
export interface ReloadSummary {
  readonly file: string;
  /** 1 for the first load, +1 per successful reload. */
  readonly generation: number;
  /** ISO-8601 time the current config was loaded. */
  readonly loadedAt: string;
  readonly monitors: number;
  readonly inventories: number;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  /** Monitors whose definition changed (any field, or the definition of the inventory they name). */
  readonly changed: readonly string[];
}

/** Called with the new config after each successful swap (and never for a rejected file). */
export type ConfigListener = (next: FleetprobeConfig, previous: FleetprobeConfig) => void;

/**
 * Checks a loaded config against what only the running server knows (its allow-list, credentials); throws
 * to reject the reload. The message names the config path (`probeModules.web: ...`).
 */
export type ConfigValidator = (next: FleetprobeConfig) => void;

export interface ConfigHolderOptions {
  readonly registry: CheckRegistry;
  /** A listener that throws is logged here; the swap stands. */
  readonly log?: Logger;
  readonly now?: () => Date;
}

/**
 * The running config of `fleetprobe server --config`: loaded and validated whole before it replaces the
 * current one, so readers see the old config or the new one, never a mix, and a bad file changes nothing.
 * Reloads are serialised (two SIGHUPs in a row load twice, in order).
 */
export class ConfigHolder {
  readonly #path: string;
  readonly #opts: ConfigHolderOptions;
  #current: FleetprobeConfig;
  #summary: ReloadSummary;
  readonly #listeners = new Set<ConfigListener>();
  readonly #validators = new Set<ConfigValidator>();
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(path: string, config: FleetprobeConfig, opts: ConfigHolderOptions) {
    this.#path = path;
    this.#opts = opts;
    this.#current = config;
    this.#summary = summarize(undefined, config, 1, this.#now());
  }

  /** Loads `path`; throws `ConfigError` (`FP_CONFIG`) when it cannot be read or is invalid. */
  static async load(path: string, opts: ConfigHolderOptions): Promise<ConfigHolder> {
    return new ConfigHolder(path, await loadConfig(path, { registry: opts.registry }), opts);
  }

  /** The config in force. */
  get current(): FleetprobeConfig {
    return this.#current;
  }

  /** The summary of the load that produced `current`. */
  get summary(): ReloadSummary {
    return this.#summary;
  }

  /** Calls `listener` after every successful reload; returns a function that removes it. */
  onChange(listener: ConfigListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Runs `validator` on every reloaded config before it is swapped in; returns a function that removes it. */
  addValidator(validator: ConfigValidator): () => void {
    this.#validators.add(validator);
    return () => this.#validators.delete(validator);
  }

  /**
   * Reads and validates the file again, then swaps it in and tells the listeners. A file that cannot be
   * read or is invalid rejects with its `ConfigError` and leaves the current config as it was.
   */
  reload(): Promise<ReloadSummary> {
    const next = this.#queue.then(() => this.#reloadNow());
    this.#queue = next.catch(() => {});
    return next;
  }

  async #reloadNow(): Promise<ReloadSummary> {
    const config = await loadConfig(this.#path, { registry: this.#opts.registry });
    for (const validate of this.#validators) {
      try {
        validate(config);
      } catch (err) {
        throw new ConfigError(config.file, [{ path: '', message: (err as Error).message }], { cause: err });
      }
    }
    const previous = this.#current;
    this.#current = config;
    this.#summary = summarize(previous, config, this.#summary.generation + 1, this.#now());
    for (const listener of this.#listeners) {
      try {
        listener(config, previous);
      } catch (err) {
        this.#opts.log?.error({ err }, 'config listener failed');
      }
    }
    return this.#summary;
  }

  #now(): Date {
    return this.#opts.now?.() ?? new Date();
  }
}

function summarize(
  previous: FleetprobeConfig | undefined,
  next: FleetprobeConfig,
  generation: number,
  at: Date,
): ReloadSummary {
  const before = new Map((previous?.monitors ?? []).map((m) => [m.name, m]));
  const after = new Map(next.monitors.map((m) => [m.name, m]));
  const fingerprint = (config: FleetprobeConfig | undefined, name: string) => {
    const m = config?.monitors.find((x) => x.name === name);
    if (!m) return '';
    const inventory = typeof m.inventory === 'string' ? config?.inventories.get(m.inventory) : m.inventory;
    return JSON.stringify([m, inventory]);
  };
  return Object.freeze({
    file: next.file,
    generation,
    loadedAt: at.toISOString(),
    monitors: next.monitors.length,
    inventories: next.inventories.size,
    added: [...after.keys()].filter((n) => !before.has(n)),
    removed: [...before.keys()].filter((n) => !after.has(n)),
    changed: [...after.keys()].filter(
      (n) => before.has(n) && fingerprint(previous, n) !== fingerprint(next, n),
    ),
  });
}
