import type { Result, Status } from '../../src/engine/result.js';

/**
 * Result `i` of a dns run of 250,000 results as a CDN fleet reports them: most pass; failures cluster (a
 * PoP whose resolver answers wrong, a rack that refuses, a slow link), so groups fold into few ranges.
 * Shared by test/web/dashboard-scale.test.ts and bench/dashboard.ts.
 */
export function scaleRunResult(run: string, i: number): Result {
  const target = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const pop = `p${(i >> 12) % 20}`;
  let status: Status = 'pass';
  let message = 'NOERROR A 192.0.2.1';
  let reason = 'NOERROR A <answers>';
  if (i % 4096 < 300) {
    status = 'fail';
    message = `expected ${target}, got 192.0.2.${i & 255}`;
    reason = 'expected <expected>, got <answers>';
  } else if (i >= 100_000 && i < 104_000) {
    status = 'error';
    message = reason = 'connect ECONNREFUSED';
  } else if (i % 50_000 < 700) {
    status = 'timeout';
    message = 'timeout after 2000 ms';
    reason = 'timeout after <n> ms';
  }
  return {
    run,
    target,
    port: 53,
    name: `ns${i}.${pop}.example`,
    labels: { pop },
    check: 'dns',
    status,
    durationMs: 2,
    startedAt: new Date(1_700_000_000_000 + i).toISOString(),
    attempts: 1,
    message,
    reason,
    data: {},
  };
}
