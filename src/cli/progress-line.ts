import { formatNumber } from '../core/text.js';
import type { RunProgress } from '../engine/types.js';
import type { StatusLine } from '../sinks/output.js';

const CLEAR_LINE = '\r\u001b[2K';

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60
    ? `${m}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${m % 60}m`;
}

/**
 * One status line: "12,400/100,000 (12%) 5,230/s | pass 12,000 error 400 | in flight 256 | ETA 17s".
 * The rate counts checks that ran: cancelled targets are done but were never checked.
 */
export function formatProgress(p: RunProgress, now = Date.now()): string {
  const elapsed = Math.max(0.001, (now - p.startedAt) / 1000);
  const rate = (p.done - p.counts.cancelled) / elapsed;
  const of =
    p.total !== undefined
      ? `/${formatNumber(p.total)} (${Math.floor((p.done / Math.max(1, p.total)) * 100)}%)`
      : '';
  const counts = Object.entries(p.counts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${s} ${formatNumber(n)}`)
    .join(' ');
  const eta = p.total !== undefined && rate > 0 ? ` | ETA ${duration((p.total - p.done) / rate)}` : '';
  return `${formatNumber(p.done)}${of} ${formatNumber(Math.round(rate))}/s | ${counts || '-'} | in flight ${p.inFlight}${eta}`;
}

/**
 * The live progress line on a terminal (stderr), redrawn every `intervalMs` (default 250). It is the one
 * writer of that line: output sharing the terminal calls `hide()` before writing rows and `show()` after
 * (see `TextOutput`), so a row never lands behind a half-drawn status (`ETA 2stimeout ...`). The line is
 * cut to the terminal's width so it never wraps (a wrapped line cannot be cleared with one `\r`).
 * `stop()` clears it for good, leaving the cursor at the start of an empty line. Writes to a TTY are
 * synchronous on Linux, so stderr and stdout writes reach the terminal in call order.
 */
export class ProgressLine implements StatusLine {
  readonly #stream: NodeJS.WriteStream;
  readonly #snapshot: () => RunProgress;
  readonly #timer: NodeJS.Timeout;
  #drawn = false;
  #stopped = false;

  constructor(stream: NodeJS.WriteStream, snapshot: () => RunProgress, intervalMs = 250) {
    this.#stream = stream;
    this.#snapshot = snapshot;
    this.#timer = setInterval(() => this.show(), intervalMs);
    this.#timer.unref();
  }

  /** Clears the line if drawn (before rows are written to the same terminal). */
  hide(): void {
    if (!this.#drawn) return;
    this.#drawn = false;
    this.#write(CLEAR_LINE);
  }

  /** (Re)draws the line, unless stopped. */
  show(): void {
    if (this.#stopped) return;
    const width = Math.max(20, (this.#stream.columns || 120) - 1);
    this.#drawn = true;
    this.#write(`${CLEAR_LINE}${formatProgress(this.#snapshot()).slice(0, width)}`);
  }

  /** Stops redrawing and clears the line. Idempotent. */
  stop(): void {
    if (this.#stopped) return;
    clearInterval(this.#timer);
    this.#stopped = true;
    this.#write(CLEAR_LINE);
    this.#drawn = false;
  }

  #write(text: string): void {
    if (!this.#stream.destroyed) this.#stream.write(text);
  }
}
