import type { Deadline } from '../core/deadline.js';
import { FleetprobeError } from '../core/errors.js';
import { loopMonitor } from '../core/loop-monitor.js';

/**
 * A deadline whose timer ran at least this many ms after its time was blocked past, not merely reached:
 * the check may never have had its chance (the loop could not read its socket or send its request), so the
 * engine re-runs it once before recording `timeout`. 5% of the timeout, between 20 and 100 ms.
 */
export function stallLateMs(timeoutMs: number): number {
  return Math.min(100, Math.max(20, timeoutMs * 0.05));
}

/**
 * A timeout seen after the loop was blocked for at least this long during the attempt (a quarter of the
 * timeout, 50 ms at least) is not trusted: the target lost that share of its budget to us, and its answer may
 * have waited in the socket. The engine re-runs it once, as for a late deadline timer.
 */
export function blockedShareMs(timeoutMs: number): number {
  return Math.max(50, timeoutMs / 4);
}

/**
 * Whether this process's own loop made an answer late, judged when the check settled (`nowMs`) before the engine
 * stopped waiting for it:
 * - `late`: the deadline has passed but its timer has not run: the loop was busy until the check returned (its
 *   own synchronous code, or a stall while its answer waited). It counts as a timeout, re-run once;
 * - `read-after-stall`: the timer ran, late, and its verdict waits for the poll phase (`createDeadline` defers the
 *   abort by one loop turn): the answer was waiting in its socket at the deadline, and stands;
 * - `stands`: in time, or settled within the grace after the abort (the check decided at its deadline).
 */
export function answerTiming(deadline: Deadline, nowMs = Date.now()): 'stands' | 'late' | 'read-after-stall' {
  if (deadline.aborted) return 'stands';
  if (deadline.timerLateMs !== undefined) return 'read-after-stall';
  return nowMs > deadline.at ? 'late' : 'stands';
}

/**
 * After its one re-run, a stalled check whose deadline timer ran `lateMs` late again: half the budget or more means
 * the target never had its chance and the client is the bottleneck (`ClientOverloadError`); less left the target
 * most of its time, and its `timeout` stands.
 */
export function isClientOverload(lateMs: number, timeoutMs: number): boolean {
  return lateMs >= timeoutMs / 2;
}

/** Event-loop delay (ms) above which a run lowers its in-flight limit: 1/8 of the timeout, 50..500 ms. */
export function highLagMs(timeoutMs: number): number {
  return Math.min(500, Math.max(50, timeoutMs / 8));
}

/**
 * A check's deadline passed while this process's event loop was blocked, on its first attempt and, for half
 * the timeout or more, on its one re-run: the client, not the target, is the bottleneck. The engine records
 * `error` with this message.
 */
export class ClientOverloadError extends FleetprobeError {
  constructor() {
    super(
      'FP_CLIENT_OVERLOAD',
      'client overloaded: the deadline passed while the event loop was blocked (re-run once)',
    );
  }
}

const CLIENT_OVERLOAD_MESSAGE = new ClientOverloadError().message;

/**
 * Whether a result (a JSONL line read back, say) is the engine's client-overload error: the client said it was
 * itself the bottleneck rather than judge the target.
 */
export function isClientOverloadResult(result: {
  readonly status: string;
  readonly message: string;
}): boolean {
  return result.status === 'error' && result.message === CLIENT_OVERLOAD_MESSAGE;
}

/** How a run (or the process) coped with its own overload. */
export interface OverloadCounters {
  /** Checks re-run once because their deadline ran late (the loop was blocked past it). */
  rechecks: number;
  /** Checks recorded `error` FP_CLIENT_OVERLOAD (stalled again on the re-run). */
  overloadErrors: number;
  /** Answers kept that were read after their deadline's timer ran (waiting in the socket at the deadline). */
  answersReadAfterStall: number;
}

/** Process totals since start, for /metrics. */
export const overloadTotals: OverloadCounters = { rechecks: 0, overloadErrors: 0, answersReadAfterStall: 0 };

/** Prometheus text for the event loop and the engine's overload handling (appended to GET /metrics). */
export function renderOverloadMetrics(): string {
  const loop = loopMonitor().stats();
  const lines = [
    '# HELP fleetprobe_event_loop_stalls_total Times the event loop was blocked 200 ms or more.',
    '# TYPE fleetprobe_event_loop_stalls_total counter',
    `fleetprobe_event_loop_stalls_total ${loop.stalls}`,
    '# HELP fleetprobe_event_loop_stalled_seconds_total Time the event loop spent blocked in stalls.',
    '# TYPE fleetprobe_event_loop_stalled_seconds_total counter',
    `fleetprobe_event_loop_stalled_seconds_total ${loop.stalledMs / 1000}`,
    '# HELP fleetprobe_event_loop_lag_seconds Event-loop delay since sampling started.',
    '# TYPE fleetprobe_event_loop_lag_seconds summary',
    `fleetprobe_event_loop_lag_seconds{quantile="0.99"} ${loop.lagP99Ms / 1000}`,
    `fleetprobe_event_loop_lag_seconds{quantile="1"} ${loop.lagMaxMs / 1000}`,
    '# HELP fleetprobe_checks_rerun_after_stall_total Checks re-run once because the loop was blocked past their deadline.',
    '# TYPE fleetprobe_checks_rerun_after_stall_total counter',
    `fleetprobe_checks_rerun_after_stall_total ${overloadTotals.rechecks}`,
    '# HELP fleetprobe_checks_client_overload_total Checks recorded error FP_CLIENT_OVERLOAD.',
    '# TYPE fleetprobe_checks_client_overload_total counter',
    `fleetprobe_checks_client_overload_total ${overloadTotals.overloadErrors}`,
    '# HELP fleetprobe_answers_read_after_stall_total Answers kept that were read after their deadline timer ran late.',
    '# TYPE fleetprobe_answers_read_after_stall_total counter',
    `fleetprobe_answers_read_after_stall_total ${overloadTotals.answersReadAfterStall}`,
  ];
  return `${lines.join('\n')}\n`;
}
