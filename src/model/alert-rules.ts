import * as z from 'zod';
import { durationMsSchema } from '../core/duration.js';
import { isLabelKey } from '../targets/labels.js';

/** `30s`, `5m`, `1h`, or a number of seconds: whole milliseconds. Zero (`0`, `0s`) is allowed: no wait. */
const forSchema = durationMsSchema({ allowZero: true });

const labelKey = z.string().refine(isLabelKey, {
  error: (iss) => `bad label name ${JSON.stringify(iss.input)} (letters, digits, _ - . / only)`,
});
const labelMap = z.record(labelKey, z.string()).default({});
const percent = z.number().gt(0).max(100);

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Fields every rule has. `name` becomes the alert's `alertname` label and must be unique per monitor. */
const common = {
  name: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, {
    error: 'expected a rule name of letters, digits, _ . : - (1..128)',
  }),
  severity: z.enum(SEVERITIES).default('warning'),
  /** Extra labels on every alert of the rule (routing keys in Alertmanager). */
  labels: labelMap,
  /** Free text added as the `description` annotation. */
  description: z.string().max(1000).optional(),
  /** How long the condition must hold before the alert fires (0: at once). */
  for: forSchema.default(0),
};

/** A target is DOWN (after the monitor's damping) for at least `for`: one alert per target. */
export const targetRuleSchema = z.strictObject({ kind: z.literal('target'), ...common });

/**
 * At least `percent`% or `count` of the targets sharing a value of `label` are DOWN: one alert per cohort
 * (`pop=waw`), naming its DOWN addresses as folded ranges. Cohorts smaller than `minTargets` never fire
 * (one host of one is not a cohort).
 */
export const cohortRuleSchema = z
  .strictObject({
    kind: z.literal('cohort'),
    ...common,
    label: labelKey,
    percent: percent.optional(),
    count: z.number().int().min(1).optional(),
    minTargets: z.number().int().min(1).default(2),
  })
  .refine((r) => r.percent !== undefined || r.count !== undefined, {
    error: 'a cohort rule needs percent or count (or both: either is enough)',
  });

/** At least `percent`% of the monitor's targets are DOWN: one alert for the monitor. */
export const fleetRuleSchema = z.strictObject({ kind: z.literal('fleet'), ...common, percent });

/** An http(s) target's certificate expires within `days` days (from the check's `cert.validTo`): one alert per target. */
export const certificateRuleSchema = z.strictObject({
  kind: z.literal('certificate'),
  ...common,
  days: z.number().gt(0).max(3650),
});

/**
 * The p95 of the round's latencies (passing results; per value of `by` when set, else over the monitor)
 * is above `p95Ms` for `rounds` consecutive rounds. Resolves at the first round at or below it.
 */
export const latencyRuleSchema = z.strictObject({
  kind: z.literal('latency'),
  ...common,
  p95Ms: z.number().gt(0),
  rounds: z.number().int().min(1).max(1000).default(3),
  by: labelKey.optional(),
});

/** One alert rule of a monitor (config file `alerts:` entries, API bodies). */
export const alertRuleSchema = z.discriminatedUnion('kind', [
  targetRuleSchema,
  cohortRuleSchema,
  fleetRuleSchema,
  certificateRuleSchema,
  latencyRuleSchema,
]);

/** A monitor's rules; names must be unique. */
export const alertRulesSchema = z.array(alertRuleSchema).superRefine((rules, ctx) => {
  const seen = new Set<string>();
  rules.forEach((r, i) => {
    if (seen.has(r.name))
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate rule name "${r.name}"` });
    seen.add(r.name);
  });
});

export type AlertRule = z.output<typeof alertRuleSchema>;
/** The kinds of alert rule. */
export type RuleKind = AlertRule['kind'];
/** Every kind of alert rule, read off `alertRuleSchema` (so the two cannot disagree), in its order. */
export const RULE_KINDS: readonly RuleKind[] = alertRuleSchema.options.map((rule) => rule.shape.kind.value);
export type AlertRuleInput = z.input<typeof alertRuleSchema>;
export type RuleOf<K extends RuleKind> = Extract<AlertRule, { kind: K }>;
