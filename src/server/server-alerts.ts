import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { AlertRecorder, alertOfRecord } from '../alerts/alert-recorder.js';
import { AlertEvaluator } from '../alerts/evaluator.js';
import { alertmanagerLabelName } from '../alerts/notifiers/alertmanager-notifier.js';
import type { Notifier } from '../alerts/notifiers/notifier.js';
import { createNotifier, type NotifierConfig } from '../alerts/notifiers/notifier-config.js';
import { OutboxDispatcher, type OutboxDispatcherOptions } from '../alerts/outbox-dispatcher.js';
import type { TargetStatus } from '../alerts/types.js';
import type { AlertRule } from '../model/alert-rules.js';
import { type MonitorSpec, TARGET_STATES, type TargetState } from '../model/monitor-spec.js';
import type { Silence } from '../model/silences.js';
import type { CommittedRound } from '../monitor/monitor-runtime.js';
import type { AlertStore } from '../store/alert-store.js';

/** Targets turned into `TargetStatus` between two yields to the event loop. */
const CHUNK = 10_000;
/** Default most values of the `--metrics-label` label per monitor; the rest are summed as `other`. */
export const DEFAULT_METRICS_LABEL_CAP = 100;

/** The alerting part of a config file. */
export interface AlertingConfig {
  /** Rules by monitor name. */
  readonly alertRules: ReadonlyMap<string, readonly AlertRule[]>;
  readonly notifiers: readonly NotifierConfig[];
  /** Silences of the config file (held in memory; those of the API and CLI are in the store). */
  readonly silences: readonly Silence[];
}

export interface ServerAlertsOptions {
  readonly store: AlertStore;
  readonly config?: AlertingConfig;
  /** `--metrics-label`: /metrics counts each monitor's targets by state and by this label's value. */
  readonly metricsLabel?: string;
  /** Most values of that label per monitor (default 100); the rest are summed as `other`. */
  readonly metricsLabelCap?: number;
  /** Dispatcher tuning (tests: short backoff and poll). */
  readonly dispatcher?: Partial<Omit<OutboxDispatcherOptions, 'store' | 'notifiers' | 'log'>>;
  readonly log?: Logger;
}

type StateCounts = Record<TargetState, number>;
const noCounts = (): StateCounts => ({ UP: 0, DOWN: 0, UNKNOWN: 0, FLAPPING: 0 });
const EMPTY: AlertingConfig = { alertRules: new Map(), notifiers: [], silences: [] };

/**
 * Alerting in the server: after each committed round of a monitor (`onRoundCommitted`, the monitors' hook),
 * its `AlertEvaluator` (rules from the config's `alerts:` or an API monitor's, firing alerts restored from the store on first use)
 * evaluates the round, the `AlertRecorder` writes history and outbox rows with the silences in force (the
 * config's and the store's), and the `OutboxDispatcher` is woken to deliver. Evaluations of one monitor run
 * one at a time (rounds never overlap; a reload that drops a monitor's rules resolves its alerts in turn).
 * Also keeps the per-monitor counts of targets by state and by one label for /metrics.
 */
export class ServerAlerts {
  readonly #store: AlertStore;
  readonly #log: Logger | undefined;
  readonly #recorder: AlertRecorder;
  readonly #dispatcher: OutboxDispatcher;
  readonly #metricsLabel: string | undefined;
  readonly #metricsLabelCap: number;
  #config: AlertingConfig = EMPTY;
  /** Rules of API monitors (stored with their specs), by monitor name; a config monitor's rules win. */
  #specRules: ReadonlyMap<string, readonly AlertRule[]> = new Map();
  #notifiers = new Map<string, { config: NotifierConfig; notifier: Notifier }>();
  readonly #evaluators = new Map<string, AlertEvaluator>();
  /** Per monitor: the evaluation (or resolve) in progress, so they run in order. */
  readonly #queues = new Map<string, Promise<void>>();
  /** Per monitor: label value -> targets by state, after its last committed round. */
  readonly #byLabel = new Map<string, Map<string, StateCounts>>();

  constructor(opts: ServerAlertsOptions) {
    this.#store = opts.store;
    this.#log = opts.log;
    this.#metricsLabel = opts.metricsLabel;
    this.#metricsLabelCap = opts.metricsLabelCap ?? DEFAULT_METRICS_LABEL_CAP;
    this.#recorder = new AlertRecorder({ store: opts.store, notifiers: [] });
    this.#dispatcher = new OutboxDispatcher({
      ...opts.dispatcher,
      store: opts.store,
      notifiers: [],
      log: opts.log,
    });
    this.#applyNotifiers(opts.config?.notifiers ?? []);
    this.#config = opts.config ?? EMPTY;
  }

  /** Starts delivering the outbox (rows left by a previous process included). */
  start(): void {
    this.#dispatcher.start();
  }

  /** Stops delivery (sends in flight are released for a retry), waits for evaluations, closes the notifiers. */
  async stop(): Promise<void> {
    await Promise.all(this.#queues.values());
    await this.#dispatcher.stop();
    await Promise.all([...this.#notifiers.values()].map(({ notifier }) => notifier.close()));
    this.#notifiers.clear();
  }

  /** The silences of the config file (listed with the store's by the API). */
  get configSilences(): readonly Silence[] {
    return this.#config.silences;
  }

  /**
   * A config reload: new rules apply from each monitor's next round (a monitor whose rules are gone has its
   * alerts resolved now), notifiers whose entry changed are rebuilt, the silences replaced.
   */
  setConfig(config: AlertingConfig): void {
    this.#config = config;
    this.#applyNotifiers(config.notifiers);
    this.#applyRules();
  }

  /**
   * The monitors' hook (`ServerMonitors` `onSpecs`): the rules API monitors carry (`alerts`). Applied as a
   * reload applies the config's: from each monitor's next round, and a monitor whose rules are gone (changed
   * without them, or deleted) has its alerts resolved now.
   */
  setMonitorSpecs(specs: readonly MonitorSpec[]): void {
    this.#specRules = new Map(specs.flatMap((s) => (s.alerts?.length ? [[s.name, s.alerts] as const] : [])));
    this.#applyRules();
  }

  #rulesOf(monitor: string): readonly AlertRule[] | undefined {
    return this.#config.alertRules.get(monitor) ?? this.#specRules.get(monitor);
  }

  #applyRules(): void {
    for (const [monitor, evaluator] of this.#evaluators) {
      const rules = this.#rulesOf(monitor);
      if (rules) evaluator.setRules(rules);
      // Tracked in the monitor's queue (stop() waits for it); it never rejects. A second one queued before
      // the first ran finds no evaluator and does nothing.
      else void this.resolveAll(monitor);
    }
  }

  /** Resolves every alert of a monitor now (its rules or the monitor are gone). */
  resolveAll(monitor: string): Promise<void> {
    return this.#serial(monitor, async () => {
      const evaluator = this.#evaluators.get(monitor);
      if (!evaluator) return;
      this.#evaluators.delete(monitor);
      evaluator.setRules([]);
      const atMs = Date.now();
      const ev = evaluator.evaluate({ monitor, monitorLabels: {}, atMs, targets: [] });
      if (ev.resolved.length === 0) return;
      await this.#recorder.record(ev, atMs, await this.#silences(atMs));
      this.#dispatcher.wake();
    });
  }

  /** The monitors' hook: evaluates a committed round. Never rejects (a failure is logged; the next round retries). */
  readonly onRoundCommitted = (spec: MonitorSpec, round: CommittedRound): Promise<void> =>
    this.#serial(spec.name, () => this.#evaluate(spec, round));

  async #evaluate(spec: MonitorSpec, round: CommittedRound): Promise<void> {
    const rules = this.#rulesOf(spec.name);
    const label = this.#metricsLabel;
    if (!rules && label === undefined) return;
    const counts = label === undefined ? undefined : new Map<string, StateCounts>();
    const targets: TargetStatus[] = [];
    let n = 0;
    for (const s of round.targets()) {
      if (counts) {
        const value = s.labels[label!] ?? '';
        const c = counts.get(value) ?? noCounts();
        if (c.UP + c.DOWN + c.UNKNOWN + c.FLAPPING === 0) counts.set(value, c);
        c[s.state]++;
      }
      if (rules)
        targets.push({
          target: s.target,
          port: s.port,
          name: s.name,
          labels: s.labels,
          state: s.state,
          sinceMs: s.sinceMs,
          last: round.resultOf(s.target, s.port) ?? null,
        });
      // 250,000 targets take a while: let requests and other monitors' results through.
      if (++n % CHUNK === 0) await yieldToLoop();
    }
    if (counts) this.#byLabel.set(spec.name, capped(counts, this.#metricsLabelCap));
    if (!rules) return;
    const evaluator = await this.#evaluatorOf(spec.name, rules);
    const ev = evaluator.evaluate({
      monitor: spec.name,
      monitorLabels: spec.labels,
      atMs: round.atMs,
      targets,
    });
    const out = await this.#recorder.record(ev, round.atMs, await this.#silences(round.atMs));
    if (out.enqueued > 0) this.#dispatcher.wake();
    if (ev.resolved.length > 0 || out.enqueued > 0)
      this.#log?.info(
        { monitor: spec.name, firing: ev.firing.length, resolved: ev.resolved.length, ...out },
        'alerts evaluated',
      );
  }

  /** The monitor's evaluator; the first time, with the alerts firing in the store (a restart continues them). */
  async #evaluatorOf(monitor: string, rules: readonly AlertRule[]): Promise<AlertEvaluator> {
    let evaluator = this.#evaluators.get(monitor);
    if (evaluator) {
      evaluator.setRules(rules);
      return evaluator;
    }
    evaluator = new AlertEvaluator(monitor, rules);
    let cursor: string | undefined;
    do {
      const page = await this.#store.listAlerts({ state: 'firing', monitor, limit: 1000, cursor });
      evaluator.restore(page.alerts.map(alertOfRecord));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    this.#evaluators.set(monitor, evaluator);
    return evaluator;
  }

  async #silences(atMs: number): Promise<Silence[]> {
    return [...this.#config.silences, ...(await this.#store.listSilences({ nowMs: atMs }))];
  }

  #applyNotifiers(configs: readonly NotifierConfig[]): void {
    const next = new Map<string, { config: NotifierConfig; notifier: Notifier }>();
    for (const config of configs) {
      const kept = this.#notifiers.get(config.name);
      next.set(
        config.name,
        kept && isDeepStrictEqual(kept.config, config) ? kept : { config, notifier: createNotifier(config) },
      );
    }
    const old = [...this.#notifiers.values()].filter((o) => next.get(o.config.name) !== o);
    this.#notifiers = next;
    const list = [...next.values()].map((n) => n.notifier);
    this.#recorder.setNotifiers(list);
    this.#dispatcher.setNotifiers(list);
    // A send in flight on a replaced notifier may fail: its row is retried with the new one.
    for (const { notifier } of old)
      notifier.close().catch((err: unknown) => this.#log?.warn({ err }, 'closing a notifier failed'));
  }

  #serial(monitor: string, fn: () => Promise<void>): Promise<void> {
    const next = (this.#queues.get(monitor) ?? Promise.resolve())
      .then(fn)
      .catch((err: unknown) => this.#log?.error({ err, monitor }, 'alert evaluation failed'));
    this.#queues.set(monitor, next);
    void next.finally(() => {
      if (this.#queues.get(monitor) === next) this.#queues.delete(monitor);
    });
    return next;
  }

  /**
   * /metrics: notifier deliveries since start (sent, failed attempts, retries scheduled, given up) and, with
   * `--metrics-label`, each monitor's targets by state and label value (for the monitors in `monitors`).
   */
  metricsText(monitors: ReadonlySet<string>): string {
    const out: string[] = [];
    const counters = this.#dispatcher.counters;
    const names = [...new Set([...this.#notifiers.keys(), ...counters.keys()])].sort();
    if (names.length > 0) {
      out.push(
        '# HELP fleetprobe_notifications_total Notification deliveries per notifier since the server started, by outcome (sent; failed attempts, of which retried or given up).',
        '# TYPE fleetprobe_notifications_total counter',
      );
      for (const name of names) {
        const c = counters.get(name) ?? { delivered: 0, failed: 0, retried: 0, gaveUp: 0 };
        const n = escapeLabel(name);
        out.push(
          `fleetprobe_notifications_total{notifier="${n}",outcome="sent"} ${c.delivered}`,
          `fleetprobe_notifications_total{notifier="${n}",outcome="failed"} ${c.failed}`,
          `fleetprobe_notifications_total{notifier="${n}",outcome="retried"} ${c.retried}`,
          `fleetprobe_notifications_total{notifier="${n}",outcome="gave_up"} ${c.gaveUp}`,
        );
      }
    }
    const label = this.#metricsLabel;
    const rows = [...this.#byLabel].filter(([m]) => monitors.has(m));
    if (label !== undefined && rows.length > 0) {
      let key = alertmanagerLabelName(label);
      if (key === 'monitor' || key === 'state') key = `label_${key}`;
      out.push(
        `# HELP fleetprobe_monitor_targets_by_label Targets of a monitor by state and by the value of label "${escapeLabel(label)}" (at most ${this.#metricsLabelCap} values per monitor; the rest as "other").`,
        '# TYPE fleetprobe_monitor_targets_by_label gauge',
      );
      for (const [monitor, byValue] of rows.sort(([a], [b]) => a.localeCompare(b)))
        for (const [value, counts] of byValue)
          for (const st of TARGET_STATES)
            out.push(
              `fleetprobe_monitor_targets_by_label{monitor="${escapeLabel(monitor)}",${key}="${escapeLabel(value)}",state="${st}"} ${counts[st]}`,
            );
    }
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }
}

/** The `cap` values with most targets (ties by value), the rest summed as `other`. */
function capped(counts: Map<string, StateCounts>, cap: number): Map<string, StateCounts> {
  const total = (c: StateCounts) => c.UP + c.DOWN + c.UNKNOWN + c.FLAPPING;
  const sorted = [...counts].sort(([a, x], [b, y]) => total(y) - total(x) || a.localeCompare(b));
  if (sorted.length <= cap) return new Map(sorted.sort(([a], [b]) => a.localeCompare(b)));
  const kept = new Map(sorted.slice(0, cap).sort(([a], [b]) => a.localeCompare(b)));
  const other = kept.get('other') ?? noCounts();
  for (const [, c] of sorted.slice(cap)) for (const st of TARGET_STATES) other[st] += c[st];
  kept.set('other', other);
  return kept;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
