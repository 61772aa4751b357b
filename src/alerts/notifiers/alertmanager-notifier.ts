import type { LabelMatcher } from '../../model/label-matchers.js';
import type { Notification } from '../../model/notification.js';
import { JsonPoster } from './http-post.js';
import type { DeliveryContext, Notifier } from './notifier.js';

export interface AlertmanagerNotifierOptions {
  readonly name: string;
  /** Alertmanager's base URL, e.g. `http://127.0.0.1:9093` (the notifier appends `/api/v2/alerts`). */
  readonly url: string;
  readonly repeatIntervalMs: number;
  readonly timeoutMs: number;
  readonly matchers: readonly LabelMatcher[];
}

/** Alertmanager label names are `[a-zA-Z_][a-zA-Z0-9_]*`: ours may hold `. - /`, which become `_`. */
export function alertmanagerLabelName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/**
 * Prometheus Alertmanager, API v2 (`POST /api/v2/alerts`), the way Prometheus itself talks to it: a firing
 * alert is sent with `endsAt` 4 repeat intervals ahead (it expires in Alertmanager if fleetprobe stops
 * repeating it, e.g. while it is held back by inhibition), a resolved one with its `endsAt` in the past.
 * Alertmanager identifies alerts by their label set, so a repeat or a redelivery updates the same alert.
 */
export class AlertmanagerNotifier implements Notifier {
  readonly type = 'alertmanager';
  readonly name: string;
  readonly repeatIntervalMs: number;
  readonly matchers: readonly LabelMatcher[];
  readonly #url: string;
  readonly #poster: JsonPoster;

  constructor(opts: AlertmanagerNotifierOptions) {
    this.name = opts.name;
    this.repeatIntervalMs = opts.repeatIntervalMs;
    this.matchers = opts.matchers;
    this.#url = `${opts.url.replace(/\/+$/, '')}/api/v2/alerts`;
    this.#poster = new JsonPoster(opts.name, opts.timeoutMs);
  }

  /** The postable alert for `n`, as sent at `nowMs`. */
  payloadOf(n: Notification, nowMs: number): Record<string, unknown> {
    const labels: Record<string, string> = {};
    for (const [k, v] of Object.entries(n.labels)) labels[alertmanagerLabelName(k)] = v;
    const endsAt =
      n.state === 'resolved' && n.endsAt !== null
        ? new Date(Math.max(Date.parse(n.endsAt), Date.parse(n.startsAt))).toISOString()
        : new Date(nowMs + 4 * this.repeatIntervalMs).toISOString();
    const alert: Record<string, unknown> = {
      labels,
      annotations: { ...n.annotations, fleetprobe_fingerprint: n.fingerprint },
      startsAt: n.startsAt,
      endsAt,
    };
    if (n.generatorURL) alert.generatorURL = n.generatorURL;
    return alert;
  }

  send(n: Notification, ctx: DeliveryContext): Promise<void> {
    return this.#poster.post(this.#url, JSON.stringify([this.payloadOf(n, Date.now())]), {}, ctx.signal);
  }

  close(): Promise<void> {
    return this.#poster.close();
  }
}
