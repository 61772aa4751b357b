import type { RunProgress } from '../engine/types.js';

const fmt = new Intl.NumberFormat('en-US');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60
    ? `${m}m${String(Math.ceil(seconds % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${m % 60}m`;
}

/** One status line: "12,400/100,000 (12%) 5,230/s | pass 12,000 error 400 | in flight 256 | ETA 17s". */
export function formatProgress(p: RunProgress, now = Date.now()): string {
  const elapsed = Math.max(0.001, (now - p.startedAt) / 1000);
  const rate = p.done / elapsed;
  const of =
    p.total !== undefined
      ? `/${fmt.format(p.total)} (${Math.floor((p.done / Math.max(1, p.total)) * 100)}%)`
      : '';
  const counts = Object.entries(p.counts)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${s} ${fmt.format(n)}`)
    .join(' ');
  const eta = p.total !== undefined && rate > 0 ? ` | ETA ${duration((p.total - p.done) / rate)}` : '';
  return `${fmt.format(p.done)}${of} ${fmt.format(Math.round(rate))}/s | ${counts || '-'} | in flight ${p.inFlight}${eta}`;
}

/** Redraws the progress line on a TTY every `intervalMs`; `stop()` clears it. */
export function startProgressLine(
  stream: NodeJS.WriteStream,
  snapshot: () => RunProgress,
  intervalMs = 250,
): { stop(): void } {
  const draw = () =>
    stream.write(`\r\u001b[2K${formatProgress(snapshot()).slice(0, (stream.columns || 120) - 1)}`);
  const timer = setInterval(draw, intervalMs);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      stream.write('\r\u001b[2K');
    },
  };
}
