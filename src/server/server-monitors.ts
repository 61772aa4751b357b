import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import type { Check } from '../checks/check.js';
import type { CheckRegistry } from '../checks/registry.js';
import { validateCheckArgs } from '../checks/validate-args.js';
import type { Credentials } from '../config/credentials.js';
import { InterruptedError } from '../core/errors.js';
import type { Executor } from '../engine/executor.js';
import type { Result } from '../engine/result.js';
import { type MonitorSpec, TARGET_STATES } from '../model/monitor-spec.js';
import { type InventoryDeps, type InventorySpec, inventoryOf } from '../monitor/inventories/index.js';
import { MonitorManager } from '../monitor/monitor-manager.js';
import type { MonitorStatus, OnRoundCommitted } from '../monitor/monitor-runtime.js';
import { storedRoundPort } from '../monitor/stored-round.js';
import type { TransitionRecord } from '../store/monitor-store.js';
import type { Store } from '../store/store.js';
import type { AllowList } from './allow-list.js';
import { ApiError } from './errors.js';
import type { Metrics } from './metrics.js';
import {
  type MonitorCreate,
  type MonitorPatch,
  monitorCreateSchema,
  monitorPatchSchema,
  monitorSpecOf,
} from './monitor-request.js';
import { parseOr400 } from './validate.js';
import { validateRunArgs, validateTargets } from './validate-run-args.js';

/** The monitors of the config file and the inventories they name (`FleetprobeConfig` has both). */
export interface ConfigMonitors {
  readonly monitors: readonly MonitorSpec[];
  readonly inventories: ReadonlyMap<string, InventorySpec>;
}

export interface ServerMonitorsOptions {
  readonly store: Store;
  readonly registry: CheckRegistry;
  /** The server's executor: rounds run where runs run (the workers with `--nats`). */
  readonly executor: Executor;
  /** This process's lease id (the RunManager's), written as each round's owner. */
  readonly owner: () => string | null;
  readonly allowList: AllowList | undefined;
  readonly credentials: Credentials;
  /** Check counters of /metrics (rounds count like runs). */
  readonly metrics?: Metrics;
  /** The config file's monitors (`server --config`); swapped on reload with `setConfig`. */
  readonly config?: ConfigMonitors;
  /** The resolver of a `dns:` inventory (`resolver:` or the system's). */
  readonly resolverFor: InventoryDeps['resolverFor'];
  /** Raw results kept for this many most recent rounds of each monitor (default 10). */
  readonly keepRounds?: number;
  /** Transitions kept this long, in ms (`--keep`; default 90 days). */
  readonly transitionsKeepMs?: number;
  /** History retention runs every this many ms (default 1 h). */
  readonly pruneEveryMs?: number;
  /** Told every batch of a round's results once stored, as runs' are (`--search-index`). */
  readonly onStored?: (results: readonly Result[]) => void;
  /** Called with each committed round's transitions (alerts, SSE). Must not throw. */
  readonly onTransitions?: (monitor: string, transitions: readonly TransitionRecord[]) => void;
  /** Called after each committed round (alerts). */
  readonly onRoundCommitted?: OnRoundCommitted;
  /**
   * Told the effective monitors before they are (re)started: at start and after every create, change, delete,
   * pause and config reload (alerts: the rules of API monitors). Must not throw.
   */
  readonly onSpecs?: (specs: readonly MonitorSpec[]) => void;
  readonly log?: Logger;
}

/** A monitor as the API shows it: its definition, where it is defined, and its live status. */
export interface MonitorView extends MonitorSpec {
  readonly status: MonitorStatus | null;
}

/**
 * The server's monitors: those of the config file (read-only through the API) and those defined through the
 * API (stored), run by one `MonitorManager` whose rounds are stored runs through the server's executor.
 * Pause and resume are persisted for both kinds: an API monitor's flag is part of its stored definition; a
 * config monitor's pause or resume through the API is kept as an override in the store that holds across
 * restarts and reloads until the monitor's entry in the file changes (its `paused:` line aside).
 * Every change goes through `#apply()`: the effective set of specs is recomputed and handed to
 * `MonitorManager.reload()`, which keeps the states of unchanged monitors.
 */
export class ServerMonitors {
  readonly manager: MonitorManager;
  readonly #o: ServerMonitorsOptions;
  #config: ConfigMonitors;
  readonly #api = new Map<string, MonitorSpec>();
  /** Config monitors paused or resumed through the API: the override, and the file's spec it was made against. */
  readonly #overrides = new Map<string, { paused: boolean; spec: MonitorSpec }>();
  /** Serialises definition changes (store write + reload) so two requests never interleave. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(opts: ServerMonitorsOptions) {
    this.#o = opts;
    this.#config = opts.config ?? { monitors: [], inventories: new Map() };
    this.manager = new MonitorManager({
      store: opts.store.monitors,
      runRound: storedRoundPort({
        store: opts.store,
        executor: opts.executor,
        owner: opts.owner,
        prepare: (spec) => this.#prepare(spec),
        onResult: (r) => opts.metrics?.check(r.check, r.status, r.durationMs),
        onStored: opts.onStored,
        log: opts.log,
      }),
      inventoryOf: (spec) => inventoryOf(spec, this.#config.inventories, { resolverFor: opts.resolverFor }),
      keepRounds: opts.keepRounds,
      transitionsKeepMs: opts.transitionsKeepMs,
      pruneEveryMs: opts.pruneEveryMs,
      onTransitions: opts.onTransitions,
      onRoundCommitted: opts.onRoundCommitted,
      log: opts.log,
    });
  }

  /** Loads the API monitors and pause overrides from the store and starts every monitor with its state. */
  async start(): Promise<void> {
    for (const stored of await this.#o.store.monitors.listMonitors()) {
      if (stored.spec.source === 'api') this.#api.set(stored.spec.name, stored.spec);
      else this.#overrides.set(stored.spec.name, { paused: stored.paused, spec: stored.spec });
    }
    const specs = this.#effective();
    this.#o.onSpecs?.(specs);
    await this.manager.start(specs);
    void this.manager.pruneHistory();
  }

  /** A config reload: swaps the config monitors in; unchanged monitors keep running untouched. */
  setConfig(config: ConfigMonitors): Promise<void> {
    return this.#serial(async () => {
      this.#config = config;
      await this.#apply();
    });
  }

  /** Every monitor, by name. */
  list(): MonitorView[] {
    return this.#effective()
      .map((spec) => this.#view(spec))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): MonitorView | undefined {
    const spec = this.#effective().find((s) => s.name === name);
    return spec && this.#view(spec);
  }

  /** The monitor or a 404. */
  mustGet(name: string): MonitorView {
    const view = this.get(name);
    if (!view) throw new ApiError('not_found', `monitor "${name}" does not exist`);
    return view;
  }

  /** POST: validates like a run (allow-list, named credentials), stores and starts it. 409 if the name is taken. */
  create(body: unknown): Promise<MonitorView> {
    const req = parseOr400(monitorCreateSchema, body, 'body');
    return this.#serial(async () => {
      if (this.#configSpec(req.name) || this.#api.has(req.name))
        throw new ApiError('conflict', `monitor "${req.name}" already exists`);
      const spec = this.#specOf(req);
      await this.#o.store.monitors.saveMonitor(spec);
      this.#api.set(spec.name, spec);
      await this.#apply();
      return this.mustGet(spec.name);
    });
  }

  /** PATCH: changes an API monitor (validated as a whole again); its target states are kept. */
  update(name: string, body: unknown): Promise<MonitorView> {
    const patch: MonitorPatch = parseOr400(monitorPatchSchema, body, 'body');
    return this.#serial(async () => {
      const current = this.#mustBeApi(name);
      // Rules are kept parsed (`for` in ms), so they are not parsed a second time with the rest.
      const { alerts, ...fields } = patch;
      const merged = parseOr400(
        monitorCreateSchema,
        { ...requestOf(current), ...definedOnly(fields), name },
        'body',
      );
      const spec = this.#specOf({ ...merged, alerts: alerts ?? current.alerts?.slice() });
      await this.#o.store.monitors.saveMonitor(spec);
      this.#api.set(name, spec);
      await this.#apply();
      return this.mustGet(name);
    });
  }

  /** DELETE: stops an API monitor and deletes its definition, states, transitions and rollups (its runs stay). */
  delete(name: string): Promise<void> {
    return this.#serial(async () => {
      this.#mustBeApi(name);
      this.#api.delete(name);
      await this.#apply();
      await this.#o.store.monitors.deleteMonitor(name);
      await this.#o.store.monitors.deleteMonitorData(name);
    });
  }

  /** Pauses or resumes a monitor (either kind), persisted. A running round finishes. */
  setPaused(name: string, paused: boolean): Promise<MonitorView> {
    return this.#serial(async () => {
      const api = this.#api.get(name);
      if (api) {
        await this.#o.store.monitors.setMonitorPaused(name, paused);
        this.#api.set(name, { ...api, paused });
      } else {
        const spec = this.#configSpec(name);
        if (!spec) throw new ApiError('not_found', `monitor "${name}" does not exist`);
        await this.#o.store.monitors.saveMonitor({ ...spec, paused });
        this.#overrides.set(name, { paused, spec });
      }
      await this.#apply();
      return this.mustGet(name);
    });
  }

  /** Shutdown: running rounds end `interrupted` and never cause a transition; rollups are flushed. */
  stop(): Promise<void> {
    return this.manager.stop(new InterruptedError('the server shut down'));
  }

  /**
   * Per-monitor gauges for /metrics: targets by state, the last round's start time, duration and lateness,
   * rounds skipped since the server started.
   */
  metricsText(): string {
    const all = this.manager.status();
    if (all.length === 0) return '';
    const out: string[] = [];
    const family = (
      name: string,
      type: string,
      help: string,
      samples: Array<[MonitorStatus, string, number | null]>,
    ) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [s, extra, value] of samples)
        if (value !== null) out.push(`${name}{monitor="${escapeLabel(s.name)}"${extra}} ${value}`);
    };
    const each = (f: (s: MonitorStatus) => number | null) =>
      all.map((s) => [s, '', f(s)] as [MonitorStatus, string, number | null]);
    const startMs = (s: MonitorStatus) => (s.lastRound ? Date.parse(s.lastRound.startedAt) : null);
    family(
      'fleetprobe_monitor_targets',
      'gauge',
      'Targets of a monitor by current state.',
      all.flatMap((s) =>
        TARGET_STATES.map((st) => [s, `,state="${st}"`, s.states[st]] as [MonitorStatus, string, number]),
      ),
    );
    family(
      'fleetprobe_monitor_paused',
      'gauge',
      '1 when the monitor is paused.',
      each((s) => (s.paused ? 1 : 0)),
    );
    family(
      'fleetprobe_monitor_last_round_start_timestamp_seconds',
      'gauge',
      'When the last round of the monitor started (Unix time).',
      each((s) => (s.lastRound ? startMs(s)! / 1000 : null)),
    );
    family(
      'fleetprobe_monitor_last_round_duration_seconds',
      'gauge',
      'How long the last finished round of the monitor took.',
      each((s) =>
        s.lastRound?.finishedAt ? (Date.parse(s.lastRound.finishedAt) - startMs(s)!) / 1000 : null,
      ),
    );
    family(
      'fleetprobe_monitor_last_round_lateness_seconds',
      'gauge',
      'How long after its due time the last round started.',
      each((s) => (s.lastRound?.latenessMs != null ? s.lastRound.latenessMs / 1000 : null)),
    );
    family(
      'fleetprobe_monitor_rounds_skipped_total',
      'counter',
      'Rounds not started because the previous one was still running, since the server started.',
      each((s) => s.skipped),
    );
    family(
      'fleetprobe_monitor_rounds_total',
      'counter',
      'Rounds started since the server started.',
      each((s) => s.rounds),
    );
    return `${out.join('\n')}\n`;
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn);
    this.#queue = next.catch(() => {});
    return next;
  }

  #apply(): Promise<void> {
    const specs = this.#effective();
    this.#o.onSpecs?.(specs);
    return this.manager.reload(specs);
  }

  /** Config monitors (with their pause overrides) first; API monitors whose name the config took are shadowed. */
  #effective(): MonitorSpec[] {
    const out: MonitorSpec[] = [];
    const names = new Set<string>();
    for (const spec of this.#config.monitors) {
      names.add(spec.name);
      const o = this.#overrides.get(spec.name);
      // Compared as stored (JSON): fields left undefined by the config loader are absent from the stored spec.
      const holds =
        o !== undefined && isDeepStrictEqual(asJson({ ...o.spec, paused: spec.paused }), asJson(spec));
      out.push(holds ? { ...spec, paused: o.paused } : spec);
    }
    for (const spec of this.#api.values()) {
      if (names.has(spec.name)) {
        this.#o.log?.warn({ monitor: spec.name }, 'an API monitor has the name of a config monitor: not run');
        continue;
      }
      out.push(spec);
    }
    return out;
  }

  #configSpec(name: string): MonitorSpec | undefined {
    return this.#config.monitors.find((s) => s.name === name);
  }

  #mustBeApi(name: string): MonitorSpec {
    if (this.#configSpec(name))
      throw new ApiError('conflict', `monitor "${name}" is defined in the config file: change it there`);
    const spec = this.#api.get(name);
    if (!spec) throw new ApiError('not_found', `monitor "${name}" does not exist`);
    return spec;
  }

  #view(spec: MonitorSpec): MonitorView {
    return { ...spec, status: this.manager.status(spec.name) ?? null };
  }

  /** Validates an API monitor as an API run is validated and builds its spec. Throws ApiError 400/403. */
  #specOf(req: MonitorCreate): MonitorSpec {
    const check = this.#checkOf(req.check);
    validateRunArgs(check, req.args, { allowList: this.#o.allowList, credentials: this.#o.credentials });
    validateTargets(req.targets, this.#o.allowList);
    return monitorSpecOf(req, check.name);
  }

  #checkOf(name: string): Check<unknown> {
    if (this.#o.registry.has(name)) return this.#o.registry.get(name);
    const known = this.#o.registry.list().map((c) => c.name);
    throw new ApiError('bad_request', `body.check: unknown check "${name}" (available: ${known.join(', ')})`);
  }

  /** A round's check and arguments: API monitors under the run rules again (credentials are names). */
  #prepare(spec: MonitorSpec): { check: Check<unknown>; args: unknown } {
    const check = this.#o.registry.get(spec.check);
    const args =
      spec.source === 'api'
        ? validateRunArgs(check, spec.args, {
            allowList: this.#o.allowList,
            credentials: this.#o.credentials,
          })
        : validateCheckArgs(check, spec.args);
    return { check, args };
  }
}

/** The request fields of a stored API monitor (PATCH merges into them). */
function requestOf(spec: MonitorSpec): Record<string, unknown> {
  return {
    name: spec.name,
    check: spec.check,
    args: spec.args,
    targets: typeof spec.inventory === 'string' ? [] : spec.inventory.targets,
    interval: `${spec.intervalMs}ms`,
    timeout: spec.timeoutMs === undefined ? undefined : `${spec.timeoutMs}ms`,
    concurrency: spec.concurrency,
    labels: spec.labels,
    downAfter: spec.downAfter,
    upAfter: spec.upAfter,
    paused: spec.paused,
    flapHighPct: spec.flapHighPct,
    flapLowPct: spec.flapLowPct,
  };
}

function definedOnly(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

const asJson = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
