import type { Observation } from '../checks/check.js';
import { validateObservation } from '../checks/observation.js';
import type { Deadline } from '../core/deadline.js';
import { DeadlineError } from '../core/errors.js';
import { answerTiming } from './overload.js';

/**
 * After a check's signal aborts (deadline or cancel), how long it gets to settle by itself before the engine
 * stops waiting and records `timeout` (or `cancelled`). A check that honours its signal settles at once; the
 * grace only keeps the answer of one that decides at the deadline (http's stream mode passes then).
 */
export const SETTLE_GRACE_MS = 250;

/**
 * How an attempt ended: an error (the check's, the deadline's, the cancel's), else the valid observation and
 * whether it was read after a stall (its deadline timer ran late, the answer was waiting in the socket).
 */
type RaceSettled = (err: unknown, observation: Observation | undefined, readAfterStall: boolean) => void;

/**
 * Runs one check attempt so that it can never outlive its deadline, whatever its code does:
 * - a check that never settles, or ignores its signal, is abandoned `SETTLE_GRACE_MS` after the signal
 *   aborts; it settles with `deadline.signal.reason` (DeadlineError or the cancel reason);
 * - a check that returned after its deadline before the deadline timer could run (the loop was blocked until
 *   it returned) settles with a LateResultError: it finished late (the engine re-runs it once when the
 *   lateness looks like a stall of the loop rather than of the target);
 * - an answer read in the poll phase between the deadline's timer and its verdict (`createDeadline` defers
 *   the abort by one loop turn) stands: it was waiting in the socket at the deadline;
 * - what it returns is validated (`validateObservation`): a malformed observation settles with
 *   InvalidObservationError.
 * `settled` is called exactly once (a callback, not a promise: the engine's per-attempt path). An abandoned
 * check's late settlement is ignored (and never becomes an unhandled rejection).
 */
export function raceDeadline(
  run: () => Promise<Observation>,
  deadline: Deadline,
  checkName: string,
  settled: RaceSettled,
): void {
  let pending: Promise<Observation>;
  try {
    pending = Promise.resolve(run());
  } catch (err) {
    pending = Promise.reject(err);
  }
  const race = new DeadlineRace(deadline, checkName, settled);
  deadline.watch(race.onAbort);
  pending.then(race.onValue, race.onError);
}

/**
 * One attempt's race: its state on one object, and the three callbacks that `deadline.watch` and `then` need
 * as arrow-function fields (three function objects per attempt; the grace timer passes the object itself).
 */
class DeadlineRace {
  readonly #deadline: Deadline;
  readonly #checkName: string;
  readonly #settled: RaceSettled;
  #done = false;
  #graceTimer: NodeJS.Timeout | undefined;

  constructor(deadline: Deadline, checkName: string, settled: RaceSettled) {
    this.#deadline = deadline;
    this.#checkName = checkName;
    this.#settled = settled;
  }

  readonly onAbort = (): void => {
    this.#graceTimer = setTimeout(abandon, SETTLE_GRACE_MS, this);
  };

  readonly onValue = (value: Observation): void => {
    if (this.#done) return;
    const deadline = this.#deadline;
    // Past the deadline before its timer could run: the loop was busy until the check returned.
    const timing = answerTiming(deadline);
    if (timing === 'late') {
      this.finish(new LateResultError(deadline.timeoutMs, Date.now() - deadline.at), undefined, false);
      return;
    }
    let observation: Observation;
    try {
      observation = validateObservation(value, this.#checkName);
    } catch (err) {
      this.finish(err, undefined, false);
      return;
    }
    this.finish(undefined, observation, timing === 'read-after-stall');
  };

  readonly onError = (err: unknown): void => {
    this.finish(err, undefined, false);
  };

  finish(err: unknown, observation: Observation | undefined, readAfterStall: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#deadline.watch(undefined);
    if (this.#graceTimer) clearTimeout(this.#graceTimer);
    this.#settled(err, observation, readAfterStall);
  }

  /** The settle grace ran out: the check is abandoned with the signal's reason. */
  abandon(): void {
    this.finish(this.#deadline.signal.reason, undefined, false);
  }
}

function abandon(race: DeadlineRace): void {
  race.abandon();
}

/** The check returned after its deadline without the deadline timer having fired: it blocked the event loop. */
export class LateResultError extends DeadlineError {
  /** How long after the deadline the check returned, ms. */
  readonly lateMs: number;
  constructor(timeoutMs: number, lateMs: number) {
    super(timeoutMs, `returned ${lateMs} ms after its deadline: the event loop was blocked`);
    this.lateMs = lateMs;
  }
}
