import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import * as z from 'zod';
import { type NotifierConfig, notifierConfigsSchema } from '../alerts/notifiers/notifier-config.js';
import type { CheckRegistry } from '../checks/registry.js';
import { TargetParseError } from '../core/errors.js';
import { type DocPath, YamlSource } from '../core/yaml-source.js';
import type { AlertRule } from '../model/alert-rules.js';
import type { MonitorSpec } from '../model/monitor-spec.js';
import { type Silence, silenceInputSchema } from '../model/silences.js';
import type { InventoryKind, InventorySpec } from '../monitor/inventories/inventory-spec.js';
import { INVENTORY_KINDS } from '../monitor/inventories/inventory-spec.js';
import { parseTargetSpec } from '../targets/spec.js';
import type { FleetprobeConfig } from './config.js';
import { ConfigError } from './config-error.js';
import { CREDENTIAL_GROUPS, type Credentials, emptyCredentials } from './credentials.js';
import { type ProbeModulesConfig, probeModulesSchema } from './probe-modules.js';
import {
  credentialsSchema,
  INVENTORY_SOURCE_KEYS,
  inventorySchemas,
  monitorEntrySchema,
  monitorListEntrySchema,
} from './schema.js';
import { isMap, Validation } from './validation.js';

/** Largest config file read: 4 MiB. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

export interface ParseConfigOptions {
  /** How errors name the file (`fleetprobe.yaml`). */
  readonly file: string;
  /** Directory relative paths in the file are resolved against (default: the file's). */
  readonly baseDir?: string;
  /** Checks monitors may name; their arguments are validated against the check's schema. */
  readonly registry: CheckRegistry;
}

/** What each section leaves for the next (monitors refer to inventories). */
interface Parsed {
  inventories: Map<string, InventorySpec>;
  monitors: MonitorSpec[];
  credentials: Credentials;
  probeModules: ProbeModulesConfig;
  alertRules: Map<string, readonly AlertRule[]>;
  notifiers: readonly NotifierConfig[];
  silences: readonly Silence[];
}

type SectionParser = (value: unknown, ctx: SectionContext, parsed: Parsed) => void;
interface SectionContext {
  readonly v: Validation;
  readonly baseDir: string;
  readonly registry: CheckRegistry;
  /** When the file is loaded (ms): the start of silences that give none. */
  readonly nowMs: number;
}

/**
 * Top-level sections in the order they are validated (a later one may refer to an earlier one). A new
 * section (alert rules, notifiers, silences, `/probe` modules) is one more entry and one more field of
 * `FleetprobeConfig`; any other key is an error.
 */
const SECTIONS: Readonly<Record<string, SectionParser>> = {
  inventories: parseInventories,
  monitors: parseMonitors,
  credentials: parseCredentials,
  probeModules: parseProbeModules,
  notifiers: parseNotifiers,
  silences: parseSilences,
};

/**
 * Reads and validates a config file: a regular file of at most `MAX_CONFIG_BYTES`. Throws `ConfigError`
 * (`FP_CONFIG`) naming `file:line:column`, the path in the document and what is wrong; when the file cannot
 * be read, just the file.
 */
export async function loadConfig(
  path: string,
  opts: { registry: CheckRegistry; signal?: AbortSignal },
): Promise<FleetprobeConfig> {
  const text = await readConfigFile(path, opts.signal);
  return parseConfig(text, { file: path, baseDir: dirname(resolve(path)), registry: opts.registry });
}

/** Validates the text of a config file (see `loadConfig`). */
export function parseConfig(text: string, opts: ParseConfigOptions): FleetprobeConfig {
  const { file } = opts;
  const source = new YamlSource(text);
  if (source.errors.length > 0)
    throw new ConfigError(
      file,
      source.errors.map((e) => ({ line: e.line, column: e.column, path: '', message: e.message })),
    );
  const root = source.value() ?? {};
  const v = new Validation(source);
  const parsed: Parsed = {
    inventories: new Map(),
    monitors: [],
    credentials: freeze(emptyCredentials()),
    probeModules: freeze({}),
    alertRules: new Map(),
    notifiers: freeze([]),
    silences: freeze([]),
  };
  if (!isMap(root)) {
    v.report([], 'expected a map with monitors, inventories and credentials');
  } else {
    v.knownKeys(root, Object.keys(SECTIONS), []);
    const ctx: SectionContext = {
      v,
      baseDir: opts.baseDir ?? dirname(resolve(file)),
      registry: opts.registry,
      nowMs: Date.now(),
    };
    for (const [key, parse] of Object.entries(SECTIONS)) {
      const value = root[key];
      if (value !== undefined && value !== null) parse(value, ctx, parsed);
    }
  }
  if (!v.ok) throw new ConfigError(file, v.problems());
  return Object.freeze({
    file,
    monitors: Object.freeze(parsed.monitors),
    inventories: parsed.inventories,
    credentials: parsed.credentials,
    probeModules: parsed.probeModules,
    alertRules: parsed.alertRules,
    notifiers: parsed.notifiers,
    silences: parsed.silences,
  });
}

function parseInventories(value: unknown, { v, baseDir }: SectionContext, parsed: Parsed): void {
  if (!isMap(value)) {
    v.report(['inventories'], 'expected a map of inventory names to inventories');
    return;
  }
  for (const [name, body] of Object.entries(value)) {
    const path = ['inventories', name];
    if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name)) {
      v.report(path, `bad inventory name "${name}" (letters, digits, _ . - only)`, { key: true });
      continue;
    }
    if (!isMap(body)) {
      v.report(path, `expected a map with one of ${sourceKeyList()}`);
      continue;
    }
    const kinds = INVENTORY_KINDS.filter((k) => INVENTORY_SOURCE_KEYS[k].some((key) => key in body));
    if (kinds.length !== 1) {
      const message =
        kinds.length === 0
          ? `expected one of ${sourceKeyList()}`
          : `has more than one source (${kinds.join(', ')}): use one inventory per source`;
      v.report(path, message);
      continue;
    }
    const spec = inventorySpec(kinds[0] as InventoryKind, name, body, path, v, baseDir);
    if (spec) parsed.inventories.set(name, spec);
  }
}

function sourceKeyList(): string {
  return INVENTORY_KINDS.map((k) => INVENTORY_SOURCE_KEYS[k].join('/')).join(', ');
}

function inventorySpec(
  kind: InventoryKind,
  name: string,
  body: Record<string, unknown>,
  path: DocPath,
  v: Validation,
  baseDir: string,
): InventorySpec | undefined {
  switch (kind) {
    case 'targets': {
      const x = v.parse(inventorySchemas.targets, body, path);
      if (!x) return undefined;
      if (x.targets.length + x.files.length === 0) v.report(path, 'expected targets or files, got none');
      checkSpecs(x.targets, [...path, 'targets'], v);
      return freeze({
        kind,
        name,
        targets: freeze(x.targets),
        files: freeze(x.files.map((f) => resolve(baseDir, f))),
        labels: x.labels,
      });
    }
    case 'dns': {
      const x = v.parse(inventorySchemas.dns, body, path);
      return x && freeze({ kind, name, names: freeze(x.dns), resolver: x.resolver, labels: x.labels });
    }
    case 'ansible': {
      const x = v.parse(inventorySchemas.ansible, body, path);
      return (
        x &&
        freeze({
          kind,
          name,
          file: resolve(baseDir, x.ansible),
          format: x.format,
          groups: freeze(x.groups),
          hostVars: x.hostVars && freeze(x.hostVars),
          ignorePorts: x.ignorePorts,
          labels: x.labels,
        })
      );
    }
    case 'sshConfig': {
      const x = v.parse(inventorySchemas.sshConfig, body, path);
      return (
        x &&
        freeze({
          kind,
          name,
          file: resolve(baseDir, x.sshConfig),
          ignorePorts: x.ignorePorts,
          labels: x.labels,
        })
      );
    }
    default:
      return kind satisfies never;
  }
}

/** Target specs are checked when the file is loaded, so a typo is reported at its line. */
function checkSpecs(specs: readonly string[], path: DocPath, v: Validation): void {
  specs.forEach((spec, i) => {
    try {
      parseTargetSpec(spec, '');
    } catch (err) {
      if (!(err instanceof TargetParseError)) throw err;
      v.report([...path, i], err.message.replace(/^: /, ''));
    }
  });
}

function parseMonitors(value: unknown, ctx: SectionContext, parsed: Parsed): void {
  const { v } = ctx;
  const seen = new Map<string, DocPath>();
  const add = (
    fields: z.output<typeof monitorListEntrySchema> | undefined,
    path: DocPath,
    namePath: DocPath,
  ) => {
    if (!fields) return;
    const first = seen.get(fields.name);
    if (first) {
      const line = v.lineOf(first);
      v.report(namePath, `duplicate monitor name "${fields.name}" (first defined on line ${line})`);
      return;
    }
    seen.set(fields.name, namePath);
    const monitor = monitorSpec(fields, path, ctx, parsed);
    if (monitor) parsed.monitors.push(monitor);
  };
  if (Array.isArray(value)) {
    value.forEach((entry, i) => {
      const path = ['monitors', i];
      add(v.parse(monitorListEntrySchema, entry, path), path, [...path, 'name']);
    });
  } else if (isMap(value)) {
    for (const [name, entry] of Object.entries(value)) {
      const path = ['monitors', name];
      const nameCheck = monitorListEntrySchema.shape.name.safeParse(name);
      if (!nameCheck.success) {
        v.report(path, `bad monitor name "${name}" (letters, digits, _ . - only)`, { key: true });
        continue;
      }
      const fields = v.parse(monitorEntrySchema, entry, path);
      add(fields && { ...fields, name }, path, path);
    }
  } else {
    v.report(['monitors'], 'expected a list of monitors or a map of monitor names to monitors');
  }
}

function monitorSpec(
  m: z.output<typeof monitorListEntrySchema>,
  path: DocPath,
  { v, registry }: SectionContext,
  parsed: Parsed,
): MonitorSpec | undefined {
  let inventory: MonitorSpec['inventory'] | undefined;
  if (m.inventory !== undefined && m.targets !== undefined) {
    v.report([...path, 'targets'], 'give either inventory or targets, not both');
  } else if (m.inventory !== undefined) {
    if (parsed.inventories.has(m.inventory)) inventory = m.inventory;
    else {
      const known = [...parsed.inventories.keys()];
      v.report(
        [...path, 'inventory'],
        `unknown inventory "${m.inventory}" (${known.length > 0 ? `defined: ${known.join(', ')}` : 'no inventories are defined'})`,
      );
    }
  } else if (m.targets !== undefined) {
    checkSpecs(m.targets, [...path, 'targets'], v);
    inventory = freeze({ targets: freeze(m.targets) });
  } else {
    v.report(path, 'expected inventory (a name from inventories) or targets (a list of targets)');
  }
  if (m.flapHighPct !== undefined && m.flapLowPct !== undefined && m.flapLowPct > m.flapHighPct)
    v.report([...path, 'flapLowPct'], `must be at most flapHighPct (${m.flapHighPct}), got ${m.flapLowPct}`);
  if (!registry.has(m.check)) {
    const names = registry.list().map((c) => c.name);
    v.report([...path, 'check'], `unknown check "${m.check}" (available: ${names.join(', ')})`);
  } else {
    checkArgs(m.check, m.args, [...path, 'args'], { v, registry });
  }
  if (!v.ok || inventory === undefined) return undefined;
  if (m.alerts.length > 0) parsed.alertRules.set(m.name, freeze(m.alerts));
  return freeze({
    name: m.name,
    check: m.check,
    args: freeze(m.args),
    inventory,
    intervalMs: m.interval,
    timeoutMs: m.timeout,
    concurrency: m.concurrency,
    labels: m.labels,
    downAfter: m.downAfter,
    upAfter: m.upAfter,
    paused: m.paused,
    flapHighPct: m.flapHighPct,
    flapLowPct: m.flapLowPct,
    source: 'config',
  });
}

/** The check's own schema, unknown arguments included, as `run` validates them. */
function checkArgs(
  name: string,
  args: Record<string, unknown>,
  path: DocPath,
  { v, registry }: Pick<SectionContext, 'v' | 'registry'>,
): void {
  const schema = registry.get(name).args;
  if (schema instanceof z.ZodObject) {
    const known = Object.keys(schema.shape);
    for (const key of Object.keys(args))
      if (!known.includes(key))
        v.report([...path, key], `check "${name}" has no argument "${key}" (known: ${known.join(', ')})`, {
          key: true,
        });
  }
  v.parse(schema, args, path, { knownKeys: false });
}

function parseCredentials(value: unknown, { v, baseDir }: SectionContext, parsed: Parsed): void {
  const x = v.parse(credentialsSchema, value, ['credentials']);
  if (!x) return;
  const credentials = emptyCredentials();
  for (const group of CREDENTIAL_GROUPS)
    credentials[group] = freeze(
      Object.fromEntries(Object.entries(x[group]).map(([name, path]) => [name, resolve(baseDir, path)])),
    );
  parsed.credentials = freeze(credentials);
}

/** `probeModules:` the modules of `GET /probe`; checks and arguments are held to the API's rules at server start. */
function parseProbeModules(value: unknown, { v }: SectionContext, parsed: Parsed): void {
  const x = v.parse(probeModulesSchema, value, ['probeModules']);
  if (x) parsed.probeModules = freeze(x);
}

/** `notifiers:` where alerts are delivered (`src/alerts/notifiers/notifier-config.ts`). */
function parseNotifiers(value: unknown, { v }: SectionContext, parsed: Parsed): void {
  const x = v.parse(notifierConfigsSchema, value, ['notifiers']);
  if (x) parsed.notifiers = freeze(x);
}

/** `silences:` maintenance windows (a monitor may be one defined through the API: names are not checked). */
function parseSilences(value: unknown, { v, nowMs }: SectionContext, parsed: Parsed): void {
  if (!Array.isArray(value)) {
    v.report(['silences'], 'expected a list of silences');
    return;
  }
  const out: Silence[] = [];
  const loadedAt = new Date(nowMs).toISOString();
  value.forEach((entry, i) => {
    const s = v.parse(silenceInputSchema, entry, ['silences', i]);
    if (!s) return;
    const id = `config-${createHash('sha256').update(JSON.stringify(entry)).digest('hex').slice(0, 12)}`;
    out.push(
      freeze({
        id,
        monitor: s.monitor ?? null,
        matchers: freeze(s.matchers),
        targets: freeze(s.targets),
        startsAt: s.startsAt ?? loadedAt,
        endsAt: s.endsAt,
        comment: s.comment,
        createdBy: s.createdBy || 'config',
        createdAt: loadedAt,
      }),
    );
  });
  parsed.silences = freeze(out);
}

function freeze<T>(value: T): T {
  return Object.freeze(value);
}

async function readConfigFile(path: string, signal: AbortSignal | undefined): Promise<string> {
  signal?.throwIfAborted();
  const fail = (message: string, cause?: unknown) =>
    new ConfigError(path, [{ path: '', message }], { cause });
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw fail(`cannot open: ${(err as Error).message}`, err);
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw fail('not a regular file');
    if (stat.size > MAX_CONFIG_BYTES) throw fail(`larger than ${MAX_CONFIG_BYTES} bytes`);
    const text = await handle.readFile({ encoding: 'utf8', signal });
    if (text.length > MAX_CONFIG_BYTES) throw fail(`larger than ${MAX_CONFIG_BYTES} bytes`);
    return text.replace(/^\uFEFF/, '');
  } catch (err) {
    if (err instanceof ConfigError || (signal?.aborted && err === signal.reason)) throw err;
    throw fail(`cannot read: ${(err as Error).message}`, err);
  } finally {
    await handle.close();
  }
}
