import type { LabelMatcher } from '../../model/label-matchers.js';
import type { Notification } from '../../model/notification.js';
import { JsonPoster } from './http-post.js';
import { type DeliveryContext, type Notifier, titleOf } from './notifier.js';

export interface SlackNotifierOptions {
  readonly name: string;
  /** The incoming-webhook URL (Slack, Mattermost, Rocket.Chat and others take the same payload). */
  readonly url: string;
  readonly channel?: string | undefined;
  readonly username?: string | undefined;
  readonly repeatIntervalMs: number;
  readonly timeoutMs: number;
  readonly matchers: readonly LabelMatcher[];
}

const COLORS: Readonly<Record<string, string>> = { critical: '#d00000', warning: '#f2c744', info: '#439fe0' };
const RESOLVED_COLOR = '#2eb886';

/** Slack-compatible incoming webhook: `text` (the title) plus one attachment with the details and a colour. */
export class SlackNotifier implements Notifier {
  readonly type = 'slack';
  readonly name: string;
  readonly repeatIntervalMs: number;
  readonly matchers: readonly LabelMatcher[];
  readonly #opts: SlackNotifierOptions;
  readonly #poster: JsonPoster;

  constructor(opts: SlackNotifierOptions) {
    this.name = opts.name;
    this.repeatIntervalMs = opts.repeatIntervalMs;
    this.matchers = opts.matchers;
    this.#opts = opts;
    this.#poster = new JsonPoster(opts.name, opts.timeoutMs);
  }

  /** The webhook body for `n`. */
  payloadOf(n: Notification): Record<string, unknown> {
    const { summary: _summary, ...details } = n.annotations;
    const fields = [
      { title: 'monitor', value: n.labels.monitor ?? '', short: true },
      { title: 'severity', value: n.labels.severity ?? '', short: true },
      ...Object.entries(details).map(([title, value]) => ({ title, value, short: value.length < 40 })),
    ];
    const attachment: Record<string, unknown> = {
      fallback: titleOf(n),
      color: n.state === 'resolved' ? RESOLVED_COLOR : (COLORS[n.labels.severity ?? ''] ?? COLORS.warning),
      title: `${n.labels.alertname ?? 'alert'} ${n.state}`,
      text: n.annotations.summary ?? '',
      fields,
      footer: `fleetprobe ${n.fingerprint}`,
      ts: Math.floor(Date.parse(n.endsAt ?? n.startsAt) / 1000),
    };
    if (n.generatorURL) attachment.title_link = n.generatorURL;
    const body: Record<string, unknown> = { text: titleOf(n), attachments: [attachment] };
    if (this.#opts.channel) body.channel = this.#opts.channel;
    if (this.#opts.username) body.username = this.#opts.username;
    return body;
  }

  send(n: Notification, ctx: DeliveryContext): Promise<void> {
    return this.#poster.post(this.#opts.url, JSON.stringify(this.payloadOf(n)), {}, ctx.signal);
  }

  close(): Promise<void> {
    return this.#poster.close();
  }
}
