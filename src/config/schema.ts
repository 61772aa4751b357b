import * as z from 'zod';
import { durationMsSchema } from '../core/duration.js';
import { parseDnsServer } from '../dns/server-spec.js';
import { alertRulesSchema } from '../model/alert-rules.js';
import { ANSIBLE_FORMATS } from '../monitor/inventories/inventory-spec.js';
import { isLabelKey } from '../targets/labels.js';
import { isHostname } from '../targets/spec.js';
import { CREDENTIAL_GROUPS, CREDENTIAL_NAME } from './credentials.js';
import { describeValue } from './validation.js';

/** Monitor and inventory names: the monitor's id in the API and store. */
export const NAME_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

export const nameSchema = z.string().regex(NAME_PATTERN, {
  error: (iss) => `expected a name of letters, digits, _ . - (1..128), got ${describeValue(iss.input)}`,
});

/** `30s`, `5m`, `1500ms`, a bare number of seconds: whole milliseconds. */
export const durationSchema = durationMsSchema();

/** Label maps: keys as in targets files, scalar values stringified (`tier: 1` is `"1"`). */
export const labelsSchema = z
  .record(
    z.string(),
    z.union([z.string(), z.number(), z.boolean()], {
      error: (iss) => `expected a string, got ${describeValue(iss.input)}`,
    }),
  )
  .superRefine((labels, ctx) => {
    for (const key of Object.keys(labels))
      if (!isLabelKey(key))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          params: { at: 'key' },
          message: `bad label key "${key}" (letters, digits, _ - . / only)`,
        });
  })
  .transform((labels) =>
    Object.freeze(Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]))),
  );

const count = (min: number, max: number) => z.number().int().min(min).max(max);

/** One monitor; `name` is required in the list form and is the map key in the map form. */
export const monitorFields = {
  check: z.string().min(1),
  args: z.record(z.string(), z.unknown()).default({}),
  inventory: nameSchema.optional(),
  targets: z.array(z.string()).min(1).optional(),
  interval: durationSchema,
  timeout: durationSchema.optional(),
  concurrency: count(1, 100_000).optional(),
  labels: labelsSchema.default(Object.freeze({})),
  downAfter: count(1, 1000).default(2),
  upAfter: count(1, 1000).default(1),
  paused: z.boolean().default(false),
  flapHighPct: z.number().min(0).max(100).optional(),
  flapLowPct: z.number().min(0).max(100).optional(),
  /** Alert rules over the monitor's states (`src/model/alert-rules.ts`). */
  alerts: alertRulesSchema.default([]),
};
export const monitorEntrySchema = z.object(monitorFields);
export const monitorListEntrySchema = z.object({ name: nameSchema, ...monitorFields });

const pathSchema = z.string().min(1);
const ignorePorts = z.boolean().default(false);
const inventoryLabels = labelsSchema.default(Object.freeze({}));

/** `inventories:` entries, by kind; the kind is the source key present (`targets`/`files`, `dns`, ...). */
export const inventorySchemas = {
  targets: z.object({
    targets: z.array(z.string()).default([]),
    files: z.array(pathSchema).default([]),
    labels: inventoryLabels,
  }),
  dns: z.object({
    dns: z
      .array(
        z
          .string()
          .refine(isHostname, { error: (iss) => `expected a hostname, got ${describeValue(iss.input)}` }),
      )
      .min(1),
    resolver: z
      .string()
      .superRefine((s, ctx) => {
        try {
          parseDnsServer(s);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      })
      .optional(),
    labels: inventoryLabels,
  }),
  ansible: z.object({
    ansible: pathSchema,
    format: z.enum(ANSIBLE_FORMATS).optional(),
    groups: z.array(z.string().min(1)).default([]),
    hostVars: z.array(z.string().min(1)).optional(),
    ignorePorts,
    labels: inventoryLabels,
  }),
  sshConfig: z.object({ sshConfig: pathSchema, ignorePorts, labels: inventoryLabels }),
} as const;

/** The key(s) that select each inventory kind. */
export const INVENTORY_SOURCE_KEYS = {
  targets: ['targets', 'files'],
  dns: ['dns'],
  ansible: ['ansible'],
  sshConfig: ['sshConfig'],
} as const;

const credentialName = z.string().regex(CREDENTIAL_NAME, {
  error: (iss) =>
    `expected a credential name (a letter or digit, then letters, digits, . _ -), got ${describeValue(iss.input)}`,
});

export const credentialsSchema = z.object(
  Object.fromEntries(
    CREDENTIAL_GROUPS.map((group) => [group, z.record(credentialName, pathSchema).default({})]),
  ) as Record<
    (typeof CREDENTIAL_GROUPS)[number],
    z.ZodDefault<z.ZodRecord<typeof credentialName, typeof pathSchema>>
  >,
);
