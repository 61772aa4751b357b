import { FleetprobeError } from '../core/errors.js';

/** A JetStream message that does not decode or validate; it is terminated and reported, never crashes. */
export class DistMessageError extends FleetprobeError {
  readonly subject: string;
  constructor(subject: string, message: string, options?: { cause?: unknown }) {
    super('FP_DIST_BAD_MESSAGE', `${subject}: ${message}`, options);
    this.subject = subject;
  }
}

/** A JetStream operation of the distributed mode failed (publish refused, stream missing, ...). */
export class DistError extends FleetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FP_DIST', message, options);
  }
}
