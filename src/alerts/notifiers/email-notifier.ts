import nodemailer, { type SendMailOptions } from 'nodemailer';
import { describeError } from '../../core/errors.js';
import type { LabelMatcher } from '../../model/label-matchers.js';
import type { Notification } from '../../model/notification.js';
import { NotifyError } from '../errors.js';
import { bodyOf, type DeliveryContext, type Notifier, titleOf } from './notifier.js';

export interface EmailNotifierOptions {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  readonly secure: boolean;
  /** Refuse to send without STARTTLS. */
  readonly requireTLS: boolean;
  /** Accept a server certificate that does not verify (a test relay); default false. */
  readonly insecure: boolean;
  readonly user?: string | undefined;
  readonly pass?: string | undefined;
  readonly from: string;
  readonly to: readonly string[];
  readonly repeatIntervalMs: number;
  readonly timeoutMs: number;
  readonly matchers: readonly LabelMatcher[];
}

/**
 * Email over SMTP through nodemailer: one connection per message (alerts are rare; nothing idles open), bounded
 * by `timeoutMs` for connect, greeting and each socket read, and closed when the signal aborts. Subject: the
 * alert's title; body: annotations and labels as text. SMTP 5xx is permanent, 4xx and network errors retry.
 */
export class EmailNotifier implements Notifier {
  readonly type = 'email';
  readonly name: string;
  readonly repeatIntervalMs: number;
  readonly matchers: readonly LabelMatcher[];
  readonly #opts: EmailNotifierOptions;

  constructor(opts: EmailNotifierOptions) {
    this.name = opts.name;
    this.repeatIntervalMs = opts.repeatIntervalMs;
    this.matchers = opts.matchers;
    this.#opts = opts;
  }

  async send(n: Notification, ctx: DeliveryContext): Promise<void> {
    const o = this.#opts;
    const transport = nodemailer.createTransport({
      host: o.host,
      port: o.port,
      secure: o.secure,
      requireTLS: o.requireTLS,
      connectionTimeout: o.timeoutMs,
      greetingTimeout: o.timeoutMs,
      socketTimeout: o.timeoutMs,
      tls: { rejectUnauthorized: !o.insecure },
      ...(o.user !== undefined ? { auth: { user: o.user, pass: o.pass ?? '' } } : {}),
    });
    try {
      await transport.sendMail({
        from: o.from,
        to: [...o.to],
        subject: titleOf(n),
        text: bodyOf(n),
        headers: { 'X-Fleetprobe-Delivery': ctx.deliveryId, 'X-Fleetprobe-Fingerprint': n.fingerprint },
        signal: ctx.signal,
      } as SendMailOptions);
    } catch (err) {
      const code = (err as { responseCode?: unknown }).responseCode;
      const status = typeof code === 'number' ? code : undefined;
      throw new NotifyError(this.name, `SMTP ${o.host}:${o.port}: ${describeError(err)}`, {
        retryable: status === undefined || status < 500,
        status,
        cause: err,
      });
    } finally {
      transport.close();
    }
  }

  async close(): Promise<void> {}
}
