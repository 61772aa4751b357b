/**
 * An edge-triggered wake-up for loops that wait for "something changed": `wait()` resolves at the next `notify()`,
 * and every waiter that called `wait()` before it wakes together. A `notify()` with nobody waiting is not
 * remembered, so a loop re-checks its condition before it waits again (`while (!ready()) await w.wait()`).
 * Waiters share one promise: racing `wait()` in a loop adds a reaction per turn until the next `notify()`.
 */
export class Wakeup {
  #next: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  wait(): Promise<void> {
    this.#next ??= new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
    return this.#next;
  }

  notify(): void {
    const wake = this.#wake;
    this.#next = undefined;
    this.#wake = undefined;
    wake?.();
  }
}
