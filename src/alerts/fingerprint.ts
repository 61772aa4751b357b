import { createHash } from 'node:crypto';

/**
 * An alert's identity, as Alertmanager computes one: a hash over its labels sorted by name, so the same label
 * set always gives the same fingerprint whatever the insertion order. 16 hex digits (64 bits of SHA-256).
 */
export function fingerprintOf(labels: Readonly<Record<string, string>>): string {
  const h = createHash('sha256');
  for (const name of Object.keys(labels).sort()) {
    h.update(name);
    h.update('\xff');
    h.update(labels[name]!);
    h.update('\xff');
  }
  return h.digest('hex').slice(0, 16);
}

/** A copy of `labels` with its keys in sorted order (stable JSON, stable display). */
export function sortedLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(labels).sort()) out[name] = labels[name]!;
  return out;
}
