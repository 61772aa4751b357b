// Whole and positive numbers given as text (command-line flags), refused with a one-line UsageError.
import { UsageError } from './errors.js';

/** `value` as a whole number in `min..max`; else a UsageError naming `flag`. */
export function parseIntOption(
  value: string,
  flag: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!/^\d+$/.test(value.trim())) throw new UsageError(`${flag}: "${value}" is not a whole number`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${flag}: ${n} is out of range (${min}..${max})`);
  return n;
}

/** `value` as a finite number above 0; else a UsageError naming `flag`. */
export function parsePositiveNumber(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag}: "${value}" is not a positive number`);
  return n;
}
