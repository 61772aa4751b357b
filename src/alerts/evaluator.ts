import type { AlertRule, RuleOf } from '../model/alert-rules.js';
import { foldAddresses } from '../targets/fold.js';
import { fingerprintOf, sortedLabels } from './fingerprint.js';
import type { Alert, RoundSnapshot, TargetStatus } from './types.js';

const DAY_MS = 86_400_000;
/** Folded ranges listed in a cohort/fleet alert's `ranges` annotation before "and N more". */
const MAX_RANGES_SHOWN = 50;

/** The alerts after one evaluation: every alert now firing (new and continuing) and those that just resolved. */
export interface Evaluation {
  readonly firing: readonly Alert[];
  readonly resolved: readonly Alert[];
}

/** An alert whose condition holds in this evaluation, before `for`, startsAt and inhibition are applied. */
interface Candidate {
  readonly rule: AlertRule;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly members: readonly string[];
  /** The per-target alert's target labels (for inhibition by cohort); null for group alerts. */
  readonly targetLabels: Readonly<Record<string, string>> | null;
  /** Since when the condition holds, when the input says so (a DOWN target's `sinceMs`); else remembered. */
  readonly sinceMs?: number;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const addressOf = (t: TargetStatus): string => t.target;
const hostPort = (t: TargetStatus): string => (t.port === null ? t.target : `${t.target}:${t.port}`);

/**
 * Evaluates one monitor's alert rules over the snapshot of each committed round: pure (no I/O, time comes
 * from the snapshot), with a little memory between rounds (when a condition started holding, latency streaks,
 * the alerts firing). Cost is linear in the monitor's targets (plus a sort of the round's latencies for a
 * latency rule).
 *
 * - A condition must hold for the rule's `for` before its alert fires; a target rule counts from the moment
 *   the target became DOWN (its `sinceMs`), so a restart does not restart the wait.
 * - Inhibition: while a fleet alert fires, every cohort and target alert of the monitor is held back; while a
 *   cohort alert fires, the target alerts of its members are. Held-back alerts stay firing, with `inhibitedBy`
 *   set; delivery skips them.
 * - An alert resolves at the first evaluation where its condition no longer holds (or its rule or target is
 *   gone). A certificate alert of a target that was not checked this round, or gave no certificate, keeps its
 *   state: nothing is known of its cause.
 */
export class AlertEvaluator {
  readonly monitor: string;
  #rules: readonly AlertRule[];
  readonly #active = new Map<string, Alert>();
  /** fingerprint -> since when its condition holds (ms), for conditions the input gives no time for. */
  readonly #pendingSince = new Map<string, number>();
  /** fingerprint -> consecutive rounds above the latency threshold. */
  readonly #streaks = new Map<string, number>();

  constructor(monitor: string, rules: readonly AlertRule[]) {
    this.monitor = monitor;
    this.#rules = rules;
  }

  /** Replaces the rules (config reload); alerts of rules that are gone resolve at the next evaluation. */
  setRules(rules: readonly AlertRule[]): void {
    this.#rules = rules;
  }

  /** Alerts firing now. */
  get firing(): readonly Alert[] {
    return [...this.#active.values()];
  }

  /**
   * Takes back the alerts that were firing before a restart (from the alert history), so they continue with
   * their `startsAt` instead of firing anew, and resolve if their cause ended while the process was down.
   */
  restore(alerts: Iterable<Alert>): void {
    for (const a of alerts)
      if (a.state === 'firing' && a.monitor === this.monitor) this.#active.set(a.fingerprint, a);
  }

  evaluate(snap: RoundSnapshot): Evaluation {
    const targets = [...snap.targets];
    const candidates = new Map<string, Candidate>();
    const add = (c: Candidate) => candidates.set(fingerprintOf(c.labels), c);
    const aboveLatency = new Set<string>();
    for (const rule of this.#rules) {
      switch (rule.kind) {
        case 'target':
          this.#targetRule(rule, snap, targets, add);
          break;
        case 'cohort':
          this.#cohortRule(rule, snap, targets, add);
          break;
        case 'fleet':
          this.#fleetRule(rule, snap, targets, add);
          break;
        case 'certificate':
          this.#certificateRule(rule, snap, targets, add);
          break;
        case 'latency':
          this.#latencyRule(rule, snap, targets, add, aboveLatency);
          break;
        default:
          rule satisfies never;
      }
    }
    // A latency group at or below its threshold (or absent) this round starts its streak again.
    for (const fp of this.#streaks.keys()) if (!aboveLatency.has(fp)) this.#streaks.delete(fp);

    // `for`: the condition must have held long enough.
    const due = new Map<string, { c: Candidate; startsMs: number }>();
    for (const [fp, c] of candidates) {
      let since = c.sinceMs;
      if (since === undefined) {
        since = this.#pendingSince.get(fp) ?? snap.atMs;
        this.#pendingSince.set(fp, since);
      }
      if (snap.atMs - since >= c.rule.for) due.set(fp, { c, startsMs: since + c.rule.for });
    }
    for (const fp of this.#pendingSince.keys()) if (!candidates.has(fp)) this.#pendingSince.delete(fp);

    // Inhibition: fleet covers the monitor's cohort and target alerts; a cohort covers its members' target alerts.
    let fleetFp: string | null = null;
    const cohortFps = new Map<string, string>(); // `${label}\0${value}` -> fingerprint
    for (const [fp, { c }] of due) {
      if (c.rule.kind === 'fleet') fleetFp ??= fp;
      else if (c.rule.kind === 'cohort') cohortFps.set(`${c.rule.label}\0${c.labels[c.rule.label]}`, fp);
    }
    const inhibitorOf = (c: Candidate): string | null => {
      if (c.rule.kind === 'cohort') return fleetFp;
      if (c.rule.kind !== 'target') return null;
      if (fleetFp) return fleetFp;
      for (const [key, fp] of cohortFps) {
        const [label, value] = key.split('\0') as [string, string];
        if (c.targetLabels?.[label] === value) return fp;
      }
      return null;
    };

    const firing: Alert[] = [];
    for (const [fp, { c, startsMs }] of due) {
      const prev = this.#active.get(fp);
      const alert: Alert = {
        fingerprint: fp,
        labels: sortedLabels(c.labels),
        annotations: c.annotations,
        state: 'firing',
        startsAt: prev?.startsAt ?? iso(startsMs),
        endsAt: null,
        monitor: this.monitor,
        rule: c.rule.name,
        kind: c.rule.kind,
        inhibitedBy: inhibitorOf(c),
        members: c.members,
      };
      this.#active.set(fp, alert);
      firing.push(alert);
    }
    const resolved: Alert[] = [];
    for (const [fp, prev] of this.#active) {
      if (due.has(fp)) continue;
      this.#active.delete(fp);
      resolved.push({ ...prev, state: 'resolved', endsAt: iso(snap.atMs), inhibitedBy: null });
    }
    return { firing, resolved };
  }

  #labels(
    rule: AlertRule,
    snap: RoundSnapshot,
    base: Readonly<Record<string, string>>,
    own: Record<string, string>,
  ): Record<string, string> {
    return {
      ...snap.monitorLabels,
      ...base,
      ...rule.labels,
      ...own,
      alertname: rule.name,
      monitor: this.monitor,
      severity: rule.severity,
    };
  }

  #annotations(rule: AlertRule, own: Record<string, string>): Record<string, string> {
    return rule.description === undefined ? own : { ...own, description: rule.description };
  }

  #perTargetLabels(t: TargetStatus): Record<string, string> {
    const own: Record<string, string> = { target: t.target };
    if (t.port !== null) own.port = String(t.port);
    if (t.name !== null) own.name = t.name;
    return own;
  }

  #targetRule(
    rule: RuleOf<'target'>,
    snap: RoundSnapshot,
    targets: readonly TargetStatus[],
    add: (c: Candidate) => void,
  ) {
    for (const t of targets) {
      if (t.state !== 'DOWN') continue;
      const ann: Record<string, string> = {
        summary: `${hostPort(t)}${t.name ? ` (${t.name})` : ''} is DOWN`,
        since: iso(t.sinceMs),
      };
      if (t.last && t.last.status !== 'pass') ann.message = t.last.message;
      add({
        rule,
        labels: this.#labels(rule, snap, t.labels, this.#perTargetLabels(t)),
        annotations: this.#annotations(rule, ann),
        members: [t.target],
        targetLabels: t.labels,
        sinceMs: t.sinceMs,
      });
    }
  }

  #cohortRule(
    rule: RuleOf<'cohort'>,
    snap: RoundSnapshot,
    targets: readonly TargetStatus[],
    add: (c: Candidate) => void,
  ) {
    const cohorts = new Map<string, { total: number; down: string[] }>();
    for (const t of targets) {
      const value = t.labels[rule.label];
      if (value === undefined) continue;
      let c = cohorts.get(value);
      if (!c) {
        c = { total: 0, down: [] };
        cohorts.set(value, c);
      }
      c.total++;
      if (t.state === 'DOWN') c.down.push(addressOf(t));
    }
    for (const [value, { total, down }] of cohorts) {
      if (total < rule.minTargets || down.length === 0) continue;
      const pct = (100 * down.length) / total;
      const hit =
        (rule.percent !== undefined && pct >= rule.percent) ||
        (rule.count !== undefined && down.length >= rule.count);
      if (!hit) continue;
      add({
        rule,
        labels: this.#labels(rule, snap, {}, { [rule.label]: value }),
        annotations: this.#annotations(rule, {
          summary: `${down.length} of ${total} targets with ${rule.label}=${value} are DOWN (${round1(pct)}%)`,
          ranges: rangesText(down),
          down: String(down.length),
          total: String(total),
        }),
        members: down,
        targetLabels: null,
      });
    }
  }

  #fleetRule(
    rule: RuleOf<'fleet'>,
    snap: RoundSnapshot,
    targets: readonly TargetStatus[],
    add: (c: Candidate) => void,
  ) {
    const down = targets.filter((t) => t.state === 'DOWN').map(addressOf);
    if (targets.length === 0 || down.length === 0) return;
    const pct = (100 * down.length) / targets.length;
    if (pct < rule.percent) return;
    add({
      rule,
      labels: this.#labels(rule, snap, {}, {}),
      annotations: this.#annotations(rule, {
        summary: `${down.length} of ${targets.length} targets of monitor ${this.monitor} are DOWN (${round1(pct)}%)`,
        ranges: rangesText(down),
        down: String(down.length),
        total: String(targets.length),
      }),
      members: down,
      targetLabels: null,
    });
  }

  #certificateRule(
    rule: RuleOf<'certificate'>,
    snap: RoundSnapshot,
    targets: readonly TargetStatus[],
    add: (c: Candidate) => void,
  ) {
    for (const t of targets) {
      const labels = this.#labels(rule, snap, t.labels, this.#perTargetLabels(t));
      const validTo = certValidToMs(t.last?.data);
      if (validTo === null) {
        // Nothing known this round: a firing alert keeps firing (with its last annotations).
        const prev = this.#active.get(fingerprintOf(labels));
        if (prev) {
          add({
            rule,
            labels,
            annotations: { ...prev.annotations },
            members: [t.target],
            targetLabels: t.labels,
          });
        }
        continue;
      }
      const leftMs = validTo - snap.atMs;
      if (leftMs >= rule.days * DAY_MS) continue;
      const days = Math.floor(leftMs / DAY_MS);
      add({
        rule,
        labels,
        annotations: this.#annotations(rule, {
          summary:
            leftMs < 0
              ? `certificate of ${hostPort(t)} expired on ${iso(validTo)}`
              : `certificate of ${hostPort(t)} expires in ${days} days (${iso(validTo)})`,
          validTo: iso(validTo),
        }),
        members: [t.target],
        targetLabels: t.labels,
      });
    }
  }

  #latencyRule(
    rule: RuleOf<'latency'>,
    snap: RoundSnapshot,
    targets: readonly TargetStatus[],
    add: (c: Candidate) => void,
    above: Set<string>,
  ) {
    const groups = new Map<string, { samples: number[]; members: string[] }>();
    for (const t of targets) {
      if (t.last?.status !== 'pass') continue;
      const key = rule.by === undefined ? '' : t.labels[rule.by];
      if (key === undefined) continue;
      let g = groups.get(key);
      if (!g) {
        g = { samples: [], members: [] };
        groups.set(key, g);
      }
      g.samples.push(t.last.durationMs);
      g.members.push(t.target);
    }
    for (const [key, g] of groups) {
      const own: Record<string, string> = rule.by === undefined ? {} : { [rule.by]: key };
      const labels = this.#labels(rule, snap, {}, own);
      const fp = fingerprintOf(labels);
      const p95 = p95Of(g.samples);
      if (p95 <= rule.p95Ms) continue;
      const streak = (this.#streaks.get(fp) ?? 0) + 1;
      this.#streaks.set(fp, streak);
      above.add(fp);
      if (streak < rule.rounds) continue;
      const where = rule.by === undefined ? `monitor ${this.monitor}` : `${rule.by}=${key}`;
      add({
        rule,
        labels,
        annotations: this.#annotations(rule, {
          summary: `p95 latency of ${where} is ${round1(p95)} ms > ${rule.p95Ms} ms for ${streak} rounds`,
          p95Ms: String(round1(p95)),
        }),
        members: g.members,
        targetLabels: null,
      });
    }
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** The 95th percentile (nearest rank) of the samples; 0 for none. */
export function p95Of(samples: number[]): number {
  if (samples.length === 0) return 0;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
}

function rangesText(addresses: readonly string[]): string {
  const ranges = foldAddresses(addresses);
  if (ranges.length <= MAX_RANGES_SHOWN) return ranges.join(', ');
  return `${ranges.slice(0, MAX_RANGES_SHOWN).join(', ')} and ${ranges.length - MAX_RANGES_SHOWN} more`;
}

/** The certificate's end of validity from an http result's `data.cert.validTo`, or null. */
function certValidToMs(data: Readonly<Record<string, unknown>> | undefined): number | null {
  const cert = data?.cert as { validTo?: unknown } | undefined;
  if (!cert || typeof cert.validTo !== 'string') return null;
  const ms = Date.parse(cert.validTo);
  return Number.isNaN(ms) ? null : ms;
}
