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
  data: Record<string, unknown>;
}

export type StatusCounts = Record<Status, number>;

export function emptyCounts(): StatusCounts {
  return { pass: 0, fail: 0, error: 0, timeout: 0, cancelled: 0 };
}
