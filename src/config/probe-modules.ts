import * as z from 'zod';
import { parseDurationMs } from '../core/duration.js';
import { UsageError } from '../core/errors.js';

/** Module names: what `GET /probe?module=<name>` asks for. */
export const PROBE_MODULE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

/** `5s`, `1500ms`, or a number of milliseconds. */
const timeoutSchema = z.union([z.number().int().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  try {
    return parseDurationMs(value, 'timeout');
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a duration like 5s or 1500ms, got "${value}"` });
    return z.NEVER;
  }
});

/**
 * One probe module, blackbox_exporter's `modules.<name>` in fleetprobe's terms: a check, its arguments (as an
 * API run gives them: credentials by name, addresses inside the allow-list), and the probe's deadline
 * (default: the check's own `timeoutMs`; Prometheus' scrape timeout can shorten it per request).
 */
export const probeModuleSchema = z.strictObject({
  check: z.string().min(1),
  args: z.record(z.string(), z.unknown()).default({}),
  /** Milliseconds once parsed. */
  timeout: timeoutSchema.optional(),
});
export type ProbeModuleConfig = z.output<typeof probeModuleSchema>;

/** `probeModules:` of the config file: module name -> module. */
export const probeModulesSchema = z.record(
  z.string().regex(PROBE_MODULE_NAME, 'module names are letters, digits, _ . - (1..128)'),
  probeModuleSchema,
);
export type ProbeModulesConfig = z.output<typeof probeModulesSchema>;

/**
 * Parses `--probe-module name=<json>` (`http_2xx={"check":"http","args":{"expectStatus":"2xx"},"timeout":"5s"}`)
 * into `modules` (a later flag with the same name replaces the earlier one).
 * @throws UsageError naming the flag and the bad field.
 */
export function addProbeModuleFlag(modules: ProbeModulesConfig, text: string): ProbeModulesConfig {
  const eq = text.indexOf('=');
  const name = eq === -1 ? '' : text.slice(0, eq).trim();
  if (!PROBE_MODULE_NAME.test(name))
    throw new UsageError(`--probe-module: "${text.slice(0, 120)}" is not <name>=<json>`);
  let json: unknown;
  try {
    json = JSON.parse(text.slice(eq + 1));
  } catch (err) {
    throw new UsageError(`--probe-module ${name}: not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = probeModuleSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
    throw new UsageError(`--probe-module ${name}${at}: ${issue.message}`);
  }
  return { ...modules, [name]: parsed.data };
}
