import { BadEntry } from './bad-entry.js';

/** The labels of a target that has none: one shared frozen object (a million unlabelled targets, one object). */
export const EMPTY_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** Label keys: letters, digits and `_ - . /` (so `region`, `app.kubernetes.io/name`), 1..63 characters. */
export function isLabelKey(key: string): boolean {
  if (key.length === 0 || key.length > 63) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) ||
      (c >= 65 && c <= 90) ||
      (c >= 48 && c <= 57) ||
      c === 95 ||
      c === 45 ||
      c === 46 ||
      c === 47;
    if (!ok) return false;
  }
  return true;
}

/**
 * Adds one `key=value` pair to `into`, throwing `BadEntry` for a missing `=`, a bad key or a duplicate key.
 * The value may be empty and may contain `=`.
 */
export function addLabel(into: Record<string, string>, pair: string): void {
  const eq = pair.indexOf('=');
  if (eq === -1) throw new BadEntry(`bad label "${pair}" (expected key=value)`);
  const key = pair.slice(0, eq);
  if (!isLabelKey(key)) throw new BadEntry(`bad label key "${key}" (letters, digits, _ - . / only)`);
  if (Object.hasOwn(into, key)) throw new BadEntry(`duplicate label "${key}"`);
  into[key] = pair.slice(eq + 1);
}

/** Parses `k=v;k=v` (the CSV `labels` column); empty -> `EMPTY_LABELS`. The result is frozen. */
export function parseLabelList(
  text: string,
  into: Record<string, string> = {},
): Readonly<Record<string, string>> {
  for (const part of text.split(';')) {
    const pair = part.trim();
    if (pair !== '') addLabel(into, pair);
  }
  return freezeLabels(into);
}

/** Freezes a labels object, or returns `EMPTY_LABELS` when it has no keys. */
export function freezeLabels(labels: Record<string, string>): Readonly<Record<string, string>> {
  for (const _ in labels) return Object.freeze(labels);
  return EMPTY_LABELS;
}
