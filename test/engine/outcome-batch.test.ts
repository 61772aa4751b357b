import { isIPv4 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatGroups } from '../../src/cli/format-groups.js';
import { formatSummary } from '../../src/cli/format-summary.js';
import { outcomeBatch } from '../../src/engine/outcome-batch.js';
import { OutcomeSummary, type OutcomeSummaryOptions } from '../../src/engine/outcome-summary.js';
import { type Result, STATUSES } from '../../src/engine/result.js';

/**
 * A summary fed batches' outcomes (`addBatch(outcomeBatch(...))`, how the thread executor's batches reach
 * `run -o jsonl|summary|groups`) is the summary fed the results one by one (`add`): the same counts, groups,
 * messages, folded targets and names, also when groups make room for others and lists are cut, whatever
 * the batches' sizes.
 */

/** A small deterministic generator (LCG): the same results every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function results(n: number, seed: number): Result[] {
  const rnd = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const out: Result[] = [];
  for (let i = 0; i < n; i++) {
    const status = rnd() < 0.3 ? 'pass' : pick(STATUSES);
    // Skewed: a few reasons for most failures, a long tail of rare ones (groups make room for others).
    const r = rnd() < 0.7 ? Math.floor(rnd() * 3) : Math.floor(rnd() * 60);
    // Both halves of the IPv4 space (addresses travel as unsigned integers).
    const address = `${i % 3 === 0 ? 200 : 10}.${Math.floor(i / 65536) % 256}.${Math.floor(i / 256) % 256}.${i % 256}`;
    const target = pick([address, address, address, `fd00::${i.toString(16)}`, `h${i}.example`]);
    const name = pick([null, null, `n${i % 50}.example`, target]);
    const message = pick([
      `reason ${r}`,
      `reason ${r}`,
      `reason ${r} at 10.0.0.${i % 7}:53 after ${i % 9} ms`,
    ]);
    out.push({
      run: 'r',
      target,
      port: null,
      name,
      labels: {},
      check: 'dns',
      status,
      durationMs: 1,
      startedAt: '',
      attempts: 1,
      message,
      // Some producers set no reason: the summary masks the message.
      ...(rnd() < 0.5 ? { reason: `reason ${r}` } : {}),
      data: {},
    });
  }
  return out;
}

/** Everything a summary shows: the CLI's summary and groups texts, and the model behind them. */
function shown(summary: OutcomeSummary) {
  return {
    summary: formatSummary(summary, 1000, false),
    groups: formatGroups(summary),
    model: summary.groups(),
    counts: { ...summary.counts },
    other: summary.other(),
    exact: summary.exact,
  };
}

function oneByOne(list: readonly Result[], opts: OutcomeSummaryOptions): OutcomeSummary {
  const summary = new OutcomeSummary(opts);
  for (const r of list) summary.add(r);
  return summary;
}

function inBatches(
  list: readonly Result[],
  opts: OutcomeSummaryOptions,
  sizes: () => number,
): OutcomeSummary {
  const summary = new OutcomeSummary(opts);
  for (let at = 0; at < list.length; ) {
    const size = sizes();
    summary.addBatch(outcomeBatch(list.slice(at, at + size)));
    at += size;
  }
  return summary;
}

describe('OutcomeSummary.addBatch', () => {
  it.each<[string, OutcomeSummaryOptions, number]>([
    ['default capacity, 100-result batches', {}, 100],
    ['groups making room (capacity 8), lists cut at 5', { groupCapacity: 8, listCap: 5 }, 100],
    ['capacity 1, batches of 1', { groupCapacity: 1, listCap: 3 }, 1],
  ])('folds batches exactly as add() one by one: %s', (_, opts, size) => {
    const list = results(5000, 11);
    const expected = shown(oneByOne(list, opts));
    expect(shown(inBatches(list, opts, () => size))).toEqual(expected);
    const rnd = random(7);
    expect(shown(inBatches(list, opts, () => 1 + Math.floor(rnd() * 150)))).toEqual(expected);
    if (opts.groupCapacity !== undefined) expect(expected.exact).toBe(false); // the case is really exercised
  });

  it('lists each kind once per batch and counts passes without listing them', () => {
    const list = results(300, 3);
    const batch = outcomeBatch(list);
    const failing = list.filter((r) => r.status !== 'pass');
    expect(batch.kindOf).toHaveLength(failing.length);
    expect(batch.ipv4.filter((a) => a >= 0)).toHaveLength(failing.length - batch.otherTargets.length);
    expect(batch.otherTargets).toEqual(failing.map((r) => r.target).filter((t) => !isIPv4(t)));
    expect(batch.names).toEqual(failing.map((r) => (r.name === r.target ? null : r.name)));
    expect(new Set(batch.kinds.map((k) => `${k.status} ${k.reason} ${k.message}`)).size).toBe(
      batch.kinds.length,
    );
    for (const s of STATUSES) expect(batch.counts[s]).toBe(list.filter((r) => r.status === s).length);
  });
});
