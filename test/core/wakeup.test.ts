import { describe, expect, it } from 'vitest';
import { Wakeup } from '../../src/core/wakeup.js';

/** Whether `p` has settled once the microtasks queued so far have run. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe('Wakeup', () => {
  it('wakes every waiter at the next notify', async () => {
    const w = new Wakeup();
    const a = w.wait();
    const b = w.wait();
    expect(await settled(a)).toBe(false);
    w.notify();
    expect(await settled(a)).toBe(true);
    expect(await settled(b)).toBe(true);
  });

  it('does not remember a notify nobody waited for', async () => {
    const w = new Wakeup();
    w.notify();
    expect(await settled(w.wait())).toBe(false);
  });

  it('makes a wait after a notify wait for the next one', async () => {
    const w = new Wakeup();
    const first = w.wait();
    w.notify();
    const second = w.wait();
    expect(await settled(first)).toBe(true);
    expect(await settled(second)).toBe(false);
    w.notify();
    expect(await settled(second)).toBe(true);
  });

  it('wakes waiters in the order they waited', async () => {
    const w = new Wakeup();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => w.wait().then(() => order.push(n)));
    w.notify();
    await Promise.all(waiters);
    expect(order).toEqual([1, 2, 3]);
  });
});
