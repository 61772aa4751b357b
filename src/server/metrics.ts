import type { Status } from '../engine/result.js';
import { RUN_STATES, type RunState } from '../store/store.js';

/** Upper bounds (seconds) of the check latency histogram. */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

/**
 * Counters for GET /metrics, rendered as Prometheus text (exposition format 0.0.4) by hand. Counters count
 * since the process started: runs by final state, checks by check and status, a check-latency histogram
 * per check. Gauges (runs active, checks in flight) are read at render time.
 */
export class Metrics {
  readonly #runs = new Map<RunState, number>();
  readonly #checks = new Map<string, number>();
  readonly #durations = new Map<string, Histogram>();

  runFinished(state: RunState): void {
    this.#runs.set(state, (this.#runs.get(state) ?? 0) + 1);
  }

  check(check: string, status: Status, durationMs: number): void {
    const key = `${check}\u0000${status}`;
    this.#checks.set(key, (this.#checks.get(key) ?? 0) + 1);
    let h = this.#durations.get(check);
    if (!h) {
      h = { buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#durations.set(check, h);
    }
    const s = durationMs / 1000;
    h.sum += s;
    h.count++;
    for (let i = 0; i < DURATION_BUCKETS.length; i++) if (s <= DURATION_BUCKETS[i]!) h.buckets[i]!++;
  }

  render(gauges: { active: Partial<Record<RunState, number>>; inFlight: number }): string {
    const out: string[] = [];
    out.push(
      '# HELP fleetprobe_runs_total Runs that reached a final state since the server started, by state.',
    );
    out.push('# TYPE fleetprobe_runs_total counter');
    for (const state of RUN_STATES) {
      if (state === 'queued' || state === 'running') continue;
      out.push(`fleetprobe_runs_total{state="${state}"} ${this.#runs.get(state) ?? 0}`);
    }
    out.push('# HELP fleetprobe_runs_active Runs queued or running now.');
    out.push('# TYPE fleetprobe_runs_active gauge');
    out.push(`fleetprobe_runs_active{state="queued"} ${gauges.active.queued ?? 0}`);
    out.push(`fleetprobe_runs_active{state="running"} ${gauges.active.running ?? 0}`);
    out.push('# HELP fleetprobe_checks_total Checks completed, by check and status.');
    out.push('# TYPE fleetprobe_checks_total counter');
    for (const [key, n] of [...this.#checks].sort()) {
      const [check, status] = key.split('\u0000') as [string, string];
      out.push(`fleetprobe_checks_total{check="${esc(check)}",status="${status}"} ${n}`);
    }
    out.push(
      '# HELP fleetprobe_check_duration_seconds Time from a check starting to its result, retries included.',
    );
    out.push('# TYPE fleetprobe_check_duration_seconds histogram');
    for (const [check, h] of [...this.#durations].sort()) {
      const c = esc(check);
      DURATION_BUCKETS.forEach((le, i) => {
        out.push(`fleetprobe_check_duration_seconds_bucket{check="${c}",le="${le}"} ${h.buckets[i]}`);
      });
      out.push(`fleetprobe_check_duration_seconds_bucket{check="${c}",le="+Inf"} ${h.count}`);
      out.push(`fleetprobe_check_duration_seconds_sum{check="${c}"} ${h.sum}`);
      out.push(`fleetprobe_check_duration_seconds_count{check="${c}"} ${h.count}`);
    }
    out.push('# HELP fleetprobe_checks_in_flight Checks running now.');
    out.push('# TYPE fleetprobe_checks_in_flight gauge');
    out.push(`fleetprobe_checks_in_flight ${gauges.inFlight}`);
    return `${out.join('\n')}\n`;
  }
}
