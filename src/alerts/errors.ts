import { FleetprobeError } from '../core/errors.js';

/**
 * A notifier could not deliver a notification. `retryable`: a network failure, a timeout, HTTP 408/429/5xx
 * or an SMTP 4xx (the outbox tries again with backoff); otherwise (HTTP 4xx, SMTP 5xx: the receiver refuses
 * this payload) the outbox gives up on that notification. Code `FP_NOTIFY`.
 */
export class NotifyError extends FleetprobeError {
  readonly notifier: string;
  readonly retryable: boolean;
  /** HTTP status or SMTP response code, when the receiver answered. */
  readonly status: number | null;
  constructor(
    notifier: string,
    message: string,
    opts: { retryable: boolean; status?: number | undefined; cause?: unknown },
  ) {
    super('FP_NOTIFY', `notifier ${notifier}: ${message}`, { cause: opts.cause });
    this.notifier = notifier;
    this.retryable = opts.retryable;
    this.status = opts.status ?? null;
  }
}
