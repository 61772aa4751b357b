import { TargetParseError } from '../core/errors.js';
import { BadEntry } from './bad-entry.js';
import { parseTargetObject } from './formats.js';
import { type ParsedSpec, parseTargetSpec } from './spec.js';

/** A target as an API caller or config gives it: a spec string, or an object that keeps a name and labels. */
export interface TargetObject {
  /** An address or CIDR block (as in a spec); absent when `name` is given alone (resolved at run time). */
  readonly address?: string;
  readonly name?: string;
  readonly port?: number;
  readonly labels?: Readonly<Record<string, string | number | boolean>>;
}
export type TargetInput = string | TargetObject;

/**
 * Parses a target spec (`10.0.0.1`, `10.0.0.0/24`, `host.example:22`) or a target object
 * `{address, name, port, labels}` (the fields of a targets file's JSON lines). Throws `TargetParseError`
 * naming `where` (`argument 3`, `body.targets[2]`).
 */
export function parseTargetInput(input: TargetInput, where: string): ParsedSpec {
  if (typeof input === 'string') return parseTargetSpec(input, where);
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new TargetParseError(where, 'expected a target spec or an object {address, name, port, labels}');
  try {
    return parseTargetObject(input as Readonly<Record<string, unknown>>);
  } catch (err) {
    if (err instanceof BadEntry) throw new TargetParseError(where, err.message);
    throw err;
  }
}
