import { open } from 'node:fs/promises';
import { isIP } from 'node:net';
import { TargetParseError } from '../../core/errors.js';
import { EMPTY_LABELS, freezeLabels, isLabelKey } from '../../targets/labels.js';
import { isHostname } from '../../targets/spec.js';
import type { Target } from '../../targets/target.js';

/** Where an entry is, for errors: text, or a function computing it only when an error needs it. */
export type Where = string | (() => string);

export function whereText(where: Where): string {
  return typeof where === 'string' ? where : where();
}

/** Largest inventory file read whole (Ansible, ssh_config): 64 MiB, ~500,000 hosts with a few vars each. */
export const MAX_INVENTORY_FILE_BYTES = 64 * 1024 * 1024;

/**
 * Reads a whole inventory file as UTF-8 (BOM dropped): regular files only, at most `maxBytes`, the signal
 * honoured between chunks. A file that cannot be read throws `TargetParseError(path, reason)`.
 */
export async function readInventoryFile(
  path: string,
  signal: AbortSignal,
  maxBytes = MAX_INVENTORY_FILE_BYTES,
): Promise<string> {
  signal.throwIfAborted();
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw new TargetParseError(path, `cannot open: ${(err as Error).message}`, { cause: err });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new TargetParseError(path, 'not a regular file');
    if (stat.size > maxBytes) throw new TargetParseError(path, `larger than ${maxBytes} bytes`);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      signal.throwIfAborted();
      const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(256 * 1024) });
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new TargetParseError(path, `larger than ${maxBytes} bytes`);
      chunks.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total)
      .toString('utf8')
      .replace(/^\uFEFF/, '');
  } catch (err) {
    if (err instanceof TargetParseError || err === signal.reason) throw err;
    throw new TargetParseError(path, `cannot read: ${(err as Error).message}`, { cause: err });
  } finally {
    await handle.close();
  }
}

/**
 * The target for a host an inventory knows as `alias` and contacts at `contact` (an IP literal or a
 * hostname: Ansible's `ansible_host`, ssh's `HostName`; default the alias). An IP becomes the address (and
 * a hostname alias its display name); a hostname becomes the name, resolved by the run. `where` names the
 * entry in errors.
 */
export function hostTarget(
  alias: string,
  contact: string | undefined,
  port: number | undefined,
  labels: Readonly<Record<string, string>>,
  where: Where,
): Target {
  const to = (contact ?? alias).trim();
  let address: string | undefined;
  let name: string | undefined;
  if (isIP(to) !== 0) {
    address = to.toLowerCase();
    if (to !== alias && isHostname(alias)) name = alias.toLowerCase();
  } else if (isHostname(to)) {
    name = to.toLowerCase();
  } else {
    throw new TargetParseError(whereText(where), `"${to}" is neither an IP address nor a hostname`);
  }
  const target: { address?: string; name?: string; port?: number; labels: Readonly<Record<string, string>> } =
    {
      labels,
    };
  if (address !== undefined) target.address = address;
  if (name !== undefined) target.name = name;
  if (port !== undefined) target.port = port;
  return target;
}

/** A port 1..65535 from a number or its decimal text; `undefined` when it is not one. */
export function parsePort(value: unknown): number | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d{1,5}$/.test(value.trim())
        ? Number(value)
        : Number.NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * Adds an inventory's `labels` under a target's own (the target's value wins on a shared key). Targets
 * without labels share one frozen object.
 */
export function labelMerger(inventoryLabels: Readonly<Record<string, string>>): (target: Target) => Target {
  if (inventoryLabels === EMPTY_LABELS || Object.keys(inventoryLabels).length === 0) return (t) => t;
  const shared = Object.freeze({ ...inventoryLabels });
  return (target) => {
    const labels =
      target.labels === EMPTY_LABELS ? shared : Object.freeze({ ...inventoryLabels, ...target.labels });
    return { ...target, labels };
  };
}

export function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

/** Scalar vars (string, number, boolean) as labels, stringified; other values and bad keys are skipped. */
export function scalarLabels(
  vars: Iterable<[string, unknown]>,
  keep: (key: string) => boolean,
  into: Record<string, string> = {},
): Record<string, string> {
  for (const [key, value] of vars) {
    if (!keep(key) || !isLabelKey(key)) continue;
    if (isScalar(value)) into[key] = String(value);
  }
  return into;
}

export { freezeLabels };
