import { describe, expect, it } from 'vitest';
import type { TargetState } from '../../src/model/monitor-spec.js';
import {
  flapPercent,
  INITIAL_MACHINE,
  type MachineState,
  packMachine,
  policyOf,
  shownState,
  stepMachine,
  unpackMachine,
} from '../../src/monitor/state-machine.js';

/** Feeds outcomes ('p' pass, 'f' non-pass) and returns the shown state after each. */
function run(
  outcomes: string,
  over: Partial<Parameters<typeof policyOf>[0]> = {},
  from: MachineState = INITIAL_MACHINE,
) {
  const policy = policyOf({ downAfter: 2, upAfter: 1, ...over });
  let s = from;
  const shown: TargetState[] = [];
  for (const o of outcomes) {
    s = stepMachine(s, o === 'p', policy);
    shown.push(shownState(s));
  }
  return { shown, last: s };
}

describe('target state machine', () => {
  it('is UNKNOWN until enough results, then damps: downAfter non-passes to go DOWN, upAfter passes to come back', () => {
    expect(run('ff').shown).toEqual(['UNKNOWN', 'DOWN']);
    expect(run('p').shown).toEqual(['UP']);
    expect(run('pfpffp').shown).toEqual(['UP', 'UP', 'UP', 'UP', 'DOWN', 'UP']);
    expect(run('pppfffpppp', { downAfter: 3, upAfter: 3 }).shown).toEqual([
      'UNKNOWN',
      'UNKNOWN',
      'UP',
      'UP',
      'UP',
      'DOWN',
      'DOWN',
      'DOWN',
      'UP',
      'UP',
    ]);
    expect(run('pp', { upAfter: 2 }).shown).toEqual(['UNKNOWN', 'UP']);
  });

  it('weighs outcome changes over the last 20 rounds like Nagios (0.75 oldest .. 1.25 newest)', () => {
    expect(flapPercent(0)).toBe(0);
    expect(flapPercent(0xfffff)).toBeCloseTo(100);
    expect(flapPercent(1)).toBeCloseTo(1.25 * 5); // newest change alone
    expect(flapPercent(1 << 19)).toBeCloseTo(0.75 * 5); // oldest change alone
    expect(flapPercent(1 << 20)).toBe(0); // beyond the 20-round window
  });

  it('enters FLAPPING at the high threshold and leaves it only below the low one (hysteresis), on the damped state', () => {
    // Alternating outcomes: every round is a change. downAfter 2 never lets the target go DOWN.
    const { shown, last } = run('pfpfpfpfpf');
    const firstFlap = shown.indexOf('FLAPPING');
    expect(shown.slice(0, firstFlap).every((s) => s === 'UP')).toBe(true);
    // 40% needs weighted changes >= 8: the 7 newest weigh 1.25 + ... + 1.09 = 8.2, so the 7th change
    // (8th result) starts flapping; the 6th (6.1 -> 35.5%) did not.
    expect(firstFlap).toBe(7);
    expect(shown.slice(firstFlap)).toEqual(['FLAPPING', 'FLAPPING', 'FLAPPING']);

    // Now stable passes: the weighted share decays; FLAPPING stays while >= 20% (would not have started there).
    const calm = run('p'.repeat(20), {}, last);
    const leftAt = calm.shown.indexOf('UP');
    expect(leftAt).toBeGreaterThan(0);
    // Between the thresholds it was still FLAPPING: check the round just before leaving.
    let s = last;
    const policy = policyOf({ downAfter: 2, upAfter: 1 });
    for (let i = 0; i < leftAt; i++) s = stepMachine(s, true, policy);
    expect(shownState(s)).toBe('FLAPPING');
    expect(flapPercent(s.history)).toBeGreaterThanOrEqual(20);
    expect(flapPercent(s.history)).toBeLessThan(40);
    expect(calm.shown.slice(leftAt).every((x) => x === 'UP')).toBe(true);
  });

  it('keeps the damped state moving while flapping, so leaving FLAPPING lands on DOWN when the target stayed down', () => {
    const { last } = run('pfpfpfpfpf');
    expect(last.flapping).toBe(true);
    const after = run('f'.repeat(20), {}, last);
    expect(after.shown.at(-1)).toBe('DOWN');
    expect(after.shown.filter((s) => s === 'FLAPPING').length).toBeGreaterThan(0);
  });

  it('packs into a 32-bit word + streak and back', () => {
    const { last } = run('pfpfpfpfpfff');
    const word = packMachine(last);
    expect(word).toBeGreaterThanOrEqual(0);
    expect(word).toBeLessThan(2 ** 32);
    expect(unpackMachine(word, last.streak)).toEqual(last);
    expect(unpackMachine(packMachine(INITIAL_MACHINE), 0)).toEqual(INITIAL_MACHINE);
  });

  it('clamps a low threshold above the high one', () => {
    expect(policyOf({ downAfter: 0, upAfter: 1, flapHighPct: 30, flapLowPct: 50 })).toEqual({
      downAfter: 1,
      upAfter: 1,
      flapHighPct: 30,
      flapLowPct: 30,
    });
  });
});
