import type { OutcomeSummary } from '../engine/outcome-summary.js';
import type { Result } from '../engine/result.js';
import type { RunOverload, RunProgress } from '../engine/types.js';
// Not '../sinks/index.js': that also loads the search-index client (@elastic/elasticsearch, undici), ~10 MB
// of heap a run without --search-index never uses.
import { csvFormat, jsonlFormat, type ResultFormat, tableFormat } from '../sinks/formats.js';
import { TextOutput, WRITTEN } from '../sinks/output.js';
import { formatGroups } from './format-groups.js';
import { formatSummary } from './format-summary.js';
import type { OutputFormat } from './parse-options.js';
import { ProgressLine } from './progress-line.js';

/**
 * What a format's rows need of results besides their outcomes: nothing (`summary`, `groups`), their JSONL
 * lines as they are (`jsonl`: `RunTerminal.lines`), or the results themselves (`table`, `csv`: `row`).
 */
export function rowsNeed(format: OutputFormat): 'nothing' | 'lines' | 'objects' {
  switch (format) {
    case 'summary':
    case 'groups':
      return 'nothing';
    case 'jsonl':
      return 'lines';
    case 'table':
    case 'csv':
      return 'objects';
  }
}

export interface RunTerminalOptions {
  readonly format: OutputFormat;
  /** Where rows go (and the summary with `-o summary`): process.stdout. */
  readonly stdout: NodeJS.WriteStream;
  /** Where progress and the summary go: process.stderr. */
  readonly stderr: NodeJS.WriteStream;
  /** A live progress line on stderr when it is a terminal; undefined: none (`--no-progress`). */
  readonly progress: (() => RunProgress) | undefined;
  /** Called once when stdout's reader goes away (EPIPE, `| head`). */
  readonly onClosed: () => void;
}

/**
 * Everything a `fleetprobe run` writes to the terminal, in order: header, rows, then the summary once
 * every row is out. Rows and the progress line share the terminal through one writer (the progress
 * line is cleared around each chunk of rows). In table mode, cancelled targets are counted in the summary
 * but not printed: a Ctrl-C on a big run must not scroll thousands of `cancelled` rows; machine formats
 * (jsonl, csv) keep one line per target.
 */
export class RunTerminal {
  readonly #format: ResultFormat | undefined;
  readonly #showCancelled: boolean;
  readonly #out: TextOutput;
  readonly #err: NodeJS.WriteStream;
  readonly #summaryToStdout: boolean;
  /** `-o groups`: every failure group in full on stdout (format-groups.ts), the summary on stderr. */
  readonly #groupsToStdout: boolean;
  readonly #progress: ProgressLine | undefined;

  constructor(options: RunTerminalOptions) {
    const { format, stdout, stderr } = options;
    this.#format =
      format === 'jsonl'
        ? jsonlFormat
        : format === 'csv'
          ? csvFormat
          : format === 'table'
            ? tableFormat(Boolean(stdout.isTTY))
            : undefined;
    this.#showCancelled = format !== 'table';
    this.#summaryToStdout = format === 'summary';
    this.#groupsToStdout = format === 'groups';
    this.#err = stderr;
    this.#progress =
      options.progress && stderr.isTTY ? new ProgressLine(stderr, options.progress) : undefined;
    // Only a terminal shared by rows and progress needs the line cleared around rows.
    const share = this.#progress && stdout.isTTY ? this.#progress : undefined;
    this.#out = new TextOutput(stdout, { statusLine: share, onClosed: options.onClosed });
  }

  /** True once stdout's reader went away. */
  get closed(): boolean {
    return this.#out.broken;
  }

  async header(): Promise<void> {
    if (this.#format?.header) await this.#out.write(this.#format.header());
  }

  row(result: Result): Promise<void> {
    if (!this.#format || (result.status === 'cancelled' && !this.#showCancelled)) return WRITTEN;
    // Bytes are copied before `write` returns, so the format's reused buffer is free again.
    return this.#out.write(this.#format.bytes?.(result) ?? this.#format.line(result));
  }

  /** The rows of results given as their JSONL lines (when `rowsNeed` of the format is not `objects`). */
  lines(lines: Uint8Array): Promise<void> {
    return this.#format && lines.byteLength > 0 ? this.#out.write(lines) : WRITTEN;
  }

  /** Clears the progress line and writes the remaining rows, then the summary (none once stdout closed). */
  async finish(
    summary: OutcomeSummary,
    wallMs: number,
    cancelled: boolean,
    overload?: RunOverload,
  ): Promise<void> {
    this.stopProgress();
    await this.#out.flush();
    if (this.#out.broken) return;
    const text = formatSummary(summary, wallMs, cancelled, overload);
    if (this.#summaryToStdout) {
      await this.#out.write(text);
      await this.#out.flush();
    } else {
      this.#err.write(text);
    }
    if (this.#groupsToStdout) {
      await this.#out.write(formatGroups(summary));
      await this.#out.flush();
    }
  }

  /** Stops and clears the progress line (also when the run ended by an exception). Idempotent. */
  stopProgress(): void {
    this.#progress?.stop();
  }

  /**
   * For an immediate exit (a second Ctrl-C): clears the progress line and the terminal's `^C` echo, so
   * the shell prompt starts on a clean line.
   */
  abandon(): void {
    this.#progress?.stop();
    if (this.#err.isTTY) this.#err.write('\r\u001b[2K');
  }
}
