import { describeError, FleetprobeError } from '../core/errors.js';

export const API_ERRORS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
} as const;
export type ApiErrorKind = keyof typeof API_ERRORS;

/**
 * An error the API answers with `{error: kind, message}` and the kind's HTTP status. Code `FP_API_<KIND>`.
 * `message` names the offending field for 400s: `body.concurrency: Too big: expected number to be <=10000`.
 */
export class ApiError extends FleetprobeError {
  readonly kind: ApiErrorKind;
  readonly statusCode: number;
  /** Response headers to send with the error (e.g. `retry-after` with a 429). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    kind: ApiErrorKind,
    message: string,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(`FP_API_${kind.toUpperCase()}`, message, options);
    this.kind = kind;
    this.statusCode = API_ERRORS[kind];
    this.headers = options?.headers ?? {};
  }
}

/** The server cannot listen on its address (in use, not permitted, not local). Code `FP_LISTEN`; the CLI exits 2. */
export class ListenError extends FleetprobeError {
  constructor(address: string, cause: unknown) {
    const code = (cause as { code?: unknown } | undefined)?.code;
    const why =
      code === 'EADDRINUSE'
        ? 'the address is already in use'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EADDRNOTAVAIL'
            ? 'the address is not available on this machine'
            : describeError(cause);
    super('FP_LISTEN', `cannot listen on ${address}: ${why}`, { cause });
  }
}
