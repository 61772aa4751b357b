import { describe, expect, it } from 'vitest';
import { MAX_OBSERVATION_MESSAGE_CHARS, validateObservation } from '../../src/checks/observation.js';
import { isFleetprobeError } from '../../src/core/errors.js';

const problem = (value: unknown) => {
  try {
    validateObservation(value, 'demo');
  } catch (err) {
    if (isFleetprobeError(err, 'FP_BAD_OBSERVATION')) return err.message;
    throw err;
  }
  throw new Error('expected FP_BAD_OBSERVATION');
};

describe('validateObservation', () => {
  it('keeps the contract fields and drops the rest', () => {
    expect(validateObservation({ status: 'fail', message: 'm', data: { a: 1 }, extra: 1 }, 'demo')).toEqual({
      status: 'fail',
      message: 'm',
      data: { a: 1 },
    });
  });

  it('cuts a huge message and says how much was cut', () => {
    const obs = validateObservation({ status: 'pass', message: 'x'.repeat(50_000) }, 'demo');
    expect(obs.message.startsWith('x'.repeat(MAX_OBSERVATION_MESSAGE_CHARS))).toBe(true);
    expect(obs.message).toContain(`${50_000 - MAX_OBSERVATION_MESSAGE_CHARS} more characters cut`);
    expect(obs.message.length).toBeLessThan(MAX_OBSERVATION_MESSAGE_CHARS + 100);
  });

  it.each([
    [{ status: 'weird', message: 'm' }, /check "demo".*status.*"weird"/],
    [{ status: 'pass', message: 42 }, /message.*got 42/],
    [{ status: 'pass', message: 'm', data: [1] }, /data: expected a plain object/],
    [{ status: 'pass', message: 'm', data: new Map() }, /data: expected a plain object/],
    [{ status: 'cancelled', message: 'm' }, /status/],
    [null, /got null/],
    [undefined, /got undefined/],
  ])('refuses %j', (value, message) => {
    expect(problem(value)).toMatch(message);
  });
});
