import { Agent, request } from 'undici';
import { describeError } from '../../core/errors.js';
import { NotifyError } from '../errors.js';

/** Response bytes read (for the error message) before the rest is discarded. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs JSON bodies to receivers through its own undici Agent (so `close()` releases exactly its keep-alive
 * connections). Every request is bounded by `timeoutMs` (connect, headers and body) and by the caller's
 * signal. 2xx resolves; anything else throws `NotifyError`, retryable for network errors, timeouts, 408,
 * 429 and 5xx.
 */
export class JsonPoster {
  readonly #notifier: string;
  readonly #timeoutMs: number;
  readonly #agent: Agent;

  constructor(notifier: string, timeoutMs: number) {
    this.#notifier = notifier;
    this.#timeoutMs = timeoutMs;
    this.#agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  async post(url: string, body: string, headers: Record<string, string>, signal: AbortSignal): Promise<void> {
    const both = AbortSignal.any([signal, AbortSignal.timeout(this.#timeoutMs)]);
    let status: number;
    let text = '';
    try {
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        signal: both,
        dispatcher: this.#agent,
      });
      status = res.statusCode;
      let read = 0;
      for await (const chunk of res.body) {
        if (read < 512)
          text += (chunk as Buffer).toString('utf8', 0, Math.min(512 - read, (chunk as Buffer).length));
        read += (chunk as Buffer).length;
        if (read > MAX_RESPONSE_BYTES) {
          res.body.destroy();
          break;
        }
      }
    } catch (err) {
      const why = signal.aborted
        ? 'aborted'
        : both.aborted
          ? `timed out after ${this.#timeoutMs} ms`
          : describeError(err);
      throw new NotifyError(this.#notifier, `POST ${redact(url)}: ${why}`, { retryable: true, cause: err });
    }
    if (status >= 200 && status < 300) return;
    const retryable = status >= 500 || status === 408 || status === 429;
    const detail = text.trim().replace(/\s+/g, ' ').slice(0, 200);
    throw new NotifyError(
      this.#notifier,
      `POST ${redact(url)}: HTTP ${status}${detail ? ` ${detail}` : ''}`,
      {
        retryable,
        status,
      },
    );
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

/** A URL for messages and logs: its origin only (Slack and webhook URLs carry their secret in the path). */
function redact(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(bad url)';
  }
}
