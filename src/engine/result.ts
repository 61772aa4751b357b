export const STATUSES = ['pass', 'fail', 'error', 'timeout', 'cancelled'] as const;
export type Status = (typeof STATUSES)[number];

/** One target's outcome in one run: the JSONL line of the command-line contract. */
export interface Result {
  run: string;
  target: string;
  port: number | null;
  name: string | null;
  labels: Record<string, string>;
  check: string;
  status: Status;
  durationMs: number;
  startedAt: string;
  attempts: number;
  message: string;
  /**
   * The stable part of `message`, the key of failure groups: a template such as `expected <expected>, got <got>`
   * (the variable parts are in `data`). Set by the engine; results from older producers may lack it, so read
   * it with `reasonOf()` (src/engine/reason.ts).
   */
  reason?: string;
  data: Record<string, unknown>;
}

export type StatusCounts = Record<Status, number>;

export function emptyCounts(): StatusCounts {
  return { pass: 0, fail: 0, error: 0, timeout: 0, cancelled: 0 };
}

/** Adds `more` to `counts`, status by status. */
export function addCounts(counts: StatusCounts, more: Readonly<StatusCounts>): void {
  for (const status of STATUSES) counts[status] += more[status];
}

/**
 * One more `status` in `counts`. A switch of named increments, not `counts[status]++`: that keyed access sees a
 * different name per status and V8 takes its megamorphic path for every result (~1% of a dns thread's samples).
 */
export function countStatus(counts: StatusCounts, status: Status): void {
  switch (status) {
    case 'pass':
      counts.pass++;
      break;
    case 'fail':
      counts.fail++;
      break;
    case 'error':
      counts.error++;
      break;
    case 'timeout':
      counts.timeout++;
      break;
    case 'cancelled':
      counts.cancelled++;
      break;
  }
}
