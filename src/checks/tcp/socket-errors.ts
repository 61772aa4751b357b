/**
 * A short code for a socket error, for one-line result messages: the errno code (`ECONNREFUSED`,
 * `ECONNRESET`, TLS codes like `CERT_HAS_EXPIRED`) when there is one, else the message.
 */
export function socketErrorCode(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? code : err.message;
  }
  return String(err);
}

/** Milliseconds since `start` (a `performance.now()` reading), rounded to 0.01 ms. */
export function elapsedMs(start: number): number {
  return Math.round((performance.now() - start) * 100) / 100;
}
