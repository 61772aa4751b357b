import { createHmac, timingSafeEqual } from 'node:crypto';
import type { LabelMatcher } from '../../model/label-matchers.js';
import type { Notification } from '../../model/notification.js';
import { JsonPoster } from './http-post.js';
import type { DeliveryContext, Notifier } from './notifier.js';

export const SIGNATURE_HEADER = 'x-fleetprobe-signature';
export const TIMESTAMP_HEADER = 'x-fleetprobe-timestamp';
export const DELIVERY_HEADER = 'x-fleetprobe-delivery';

export interface WebhookNotifierOptions {
  readonly name: string;
  readonly url: string;
  /** HMAC-SHA256 key of the signature header. */
  readonly secret: string;
  readonly repeatIntervalMs: number;
  readonly timeoutMs: number;
  readonly matchers: readonly LabelMatcher[];
}

/** `sha256=<hex HMAC-SHA256 of body>`: the signature header's value. */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Verifies a signature header against the raw body in constant time (what a receiver does). */
export function verifySignature(secret: string, body: string, header: string | undefined): boolean {
  if (!header) return false;
  const want = Buffer.from(signBody(secret, body));
  const got = Buffer.from(header);
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * A generic JSON webhook: `{version: 1, notifier, deliveryId, sentAt, alert: {...}}`, with headers
 * `X-Fleetprobe-Signature: sha256=<hex HMAC-SHA256 of the raw body>`, `X-Fleetprobe-Timestamp` (Unix seconds,
 * equal to `sentAt`, which the signature covers: a receiver can refuse old replays) and `X-Fleetprobe-Delivery`
 * (the same for every attempt of one notification: a receiver can drop at-least-once repeats).
 */
export class WebhookNotifier implements Notifier {
  readonly type = 'webhook';
  readonly name: string;
  readonly repeatIntervalMs: number;
  readonly matchers: readonly LabelMatcher[];
  readonly #url: string;
  readonly #secret: string;
  readonly #poster: JsonPoster;

  constructor(opts: WebhookNotifierOptions) {
    this.name = opts.name;
    this.repeatIntervalMs = opts.repeatIntervalMs;
    this.matchers = opts.matchers;
    this.#url = opts.url;
    this.#secret = opts.secret;
    this.#poster = new JsonPoster(opts.name, opts.timeoutMs);
  }

  send(n: Notification, ctx: DeliveryContext): Promise<void> {
    const nowMs = Date.now();
    const body = JSON.stringify({
      version: 1,
      notifier: this.name,
      deliveryId: ctx.deliveryId,
      sentAt: new Date(nowMs).toISOString(),
      alert: n,
    });
    const headers = {
      [SIGNATURE_HEADER]: signBody(this.#secret, body),
      [TIMESTAMP_HEADER]: String(Math.floor(nowMs / 1000)),
      [DELIVERY_HEADER]: ctx.deliveryId,
    };
    return this.#poster.post(this.#url, body, headers, ctx.signal);
  }

  close(): Promise<void> {
    return this.#poster.close();
  }
}
