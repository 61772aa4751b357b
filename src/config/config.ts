import type { NotifierConfig } from '../alerts/notifiers/notifier-config.js';
import type { AlertRule } from '../model/alert-rules.js';
import type { MonitorSpec } from '../model/monitor-spec.js';
import type { Silence } from '../model/silences.js';
import type { InventorySpec } from '../monitor/inventories/inventory-spec.js';
import type { Credentials } from './credentials.js';
import type { ProbeModulesConfig } from './probe-modules.js';

/** A validated `fleetprobe.yaml`, frozen. Relative paths in the file are resolved against its directory. */
export interface FleetprobeConfig {
  /** The file as named when loaded (errors use it). */
  readonly file: string;
  /** In file order; `source: 'config'`. */
  readonly monitors: readonly MonitorSpec[];
  readonly inventories: ReadonlyMap<string, InventorySpec>;
  readonly credentials: Credentials;
  /** `GET /probe` modules by name (fixed at server start; `--probe-module` flags override by name). */
  readonly probeModules: ProbeModulesConfig;
  /** Each monitor's `alerts:` rules, by monitor name (monitors without rules are absent). */
  readonly alertRules: ReadonlyMap<string, readonly AlertRule[]>;
  /** `notifiers:`, in file order. */
  readonly notifiers: readonly NotifierConfig[];
  /**
   * `silences:`, in file order: ids are `config-` + a hash of the entry (stable across reloads while the entry
   * is unchanged); a silence without `startsAt` starts when the file was loaded.
   */
  readonly silences: readonly Silence[];
}
