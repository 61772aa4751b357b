import * as z from 'zod';
import { compilePattern, type Pattern } from '../checks/pattern.js';
import { isLabelKey } from '../targets/labels.js';

export const MATCH_OPS = ['=', '!=', '=~', '!~'] as const;
export type MatchOp = (typeof MATCH_OPS)[number];

/**
 * One label matcher, as Alertmanager writes them: `pop="waw"`, `severity!=info`, `pop=~"waw|fra"`,
 * `role!~"edge-.*"`. Regexes are RE2 (linear time) and anchored at both ends, as in Alertmanager. A label
 * the alert does not have matches as the empty string (`team=""` matches alerts without `team`).
 */
export class LabelMatcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  readonly #re: Pattern | undefined;

  constructor(name: string, op: MatchOp, value: string, re?: Pattern) {
    this.name = name;
    this.op = op;
    this.value = value;
    this.#re = re;
  }

  matches(labels: Readonly<Record<string, string>>): boolean {
    const v = labels[this.name] ?? '';
    switch (this.op) {
      case '=':
        return v === this.value;
      case '!=':
        return v !== this.value;
      case '=~':
        return this.#re!.test(v);
      case '!~':
        return !this.#re!.test(v);
      default:
        return this.op satisfies never;
    }
  }

  toString(): string {
    return `${this.name}${this.op}${JSON.stringify(this.value)}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

const MATCHER = /^\s*([^\s=!~"]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

/** Parses one matcher; returns it, or a one-line reason naming the text. */
export function parseMatcher(text: string): LabelMatcher | string {
  const m = MATCHER.exec(text);
  if (!m)
    return `bad matcher ${JSON.stringify(text)} (expected name=value, name!=value, name=~regex or name!~regex)`;
  const [, name, op, raw] = m as unknown as [string, string, MatchOp, string];
  if (!isLabelKey(name)) return `bad label name "${name}" in matcher ${JSON.stringify(text)}`;
  let value = raw;
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    try {
      value = JSON.parse(value) as string;
    } catch {
      return `bad quoted value in matcher ${JSON.stringify(text)}`;
    }
  }
  if (op === '=~' || op === '!~') {
    const re = compilePattern(`^(?:${value})$`);
    if (typeof re === 'string') return `matcher ${JSON.stringify(text)}: ${re}`;
    return new LabelMatcher(name, op, value, re);
  }
  return new LabelMatcher(name, op, value);
}

/** A matcher in a config file or API body: the text form `pop=~"waw|fra"`, validated and compiled once. */
export const matcherSchema = z.string().transform((text, ctx) => {
  const m = parseMatcher(text);
  if (typeof m === 'string') {
    ctx.addIssue({ code: 'custom', message: m });
    return z.NEVER;
  }
  return m;
});

/** Whether every matcher matches (an empty list matches everything). */
export function matchesAll(
  matchers: readonly LabelMatcher[],
  labels: Readonly<Record<string, string>>,
): boolean {
  for (const m of matchers) if (!m.matches(labels)) return false;
  return true;
}
