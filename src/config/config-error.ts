import { FleetprobeError } from '../core/errors.js';

/** One thing wrong with a config file, at a 1-based line and column (absent when the file cannot be read). */
export interface ConfigProblem {
  readonly line?: number;
  readonly column?: number;
  /** Where in the document: `monitors[2].interval`, `inventories.web` ('' for the whole file). */
  readonly path: string;
  readonly message: string;
}

/** `file:line:column: path: message`, the form every config problem is reported in. */
export function formatProblem(file: string, p: ConfigProblem): string {
  const where = p.line === undefined ? file : `${file}:${p.line}:${p.column ?? 1}`;
  return p.path === '' ? `${where}: ${p.message}` : `${where}: ${p.path}: ${p.message}`;
}

/**
 * A config file that cannot be read, parsed or validated (code `FP_CONFIG`; the CLI prints the message on
 * one line and exits 2). The message is the first problem, in document order, plus how many more there
 * are; `problems` has them all.
 */
export class ConfigError extends FleetprobeError {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];
  constructor(file: string, problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    const first = problems[0] ?? { path: '', message: 'invalid' };
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    super('FP_CONFIG', `${formatProblem(file, first)}${more}`, options);
    this.file = file;
    this.problems = problems;
  }
}
