import * as z from 'zod';
import { durationMsSchema } from '../../core/duration.js';
import { matcherSchema } from '../../model/label-matchers.js';
import { AlertmanagerNotifier } from './alertmanager-notifier.js';
import { EmailNotifier } from './email-notifier.js';
import type { Notifier } from './notifier.js';
import { SlackNotifier } from './slack-notifier.js';
import { WebhookNotifier } from './webhook-notifier.js';

const duration = (fallback: string) => z.unknown().default(fallback).pipe(durationMsSchema());

const httpUrl = z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });

const common = {
  name: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'expected a notifier name of letters, digits, _ . - (1..64)' }),
  /** Alerts this notifier receives; all when empty. */
  matchers: z.array(matcherSchema).default([]),
  timeout: duration('10s'),
};

/**
 * One notifier in the config file (`notifiers:`). Repeat intervals: Alertmanager 1m (like Prometheus' resend
 * delay; alerts expire there after 4 of them without a repeat), the others 4h (Alertmanager's
 * `repeat_interval` default).
 */
export const notifierConfigSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('alertmanager'),
    ...common,
    url: httpUrl,
    repeatInterval: duration('1m'),
  }),
  z.strictObject({
    type: z.literal('webhook'),
    ...common,
    url: httpUrl,
    secret: z.string().min(16, { error: 'the webhook secret needs at least 16 characters' }),
    repeatInterval: duration('4h'),
  }),
  z.strictObject({
    type: z.literal('slack'),
    ...common,
    url: httpUrl,
    channel: z.string().optional(),
    username: z.string().optional(),
    repeatInterval: duration('4h'),
  }),
  z.strictObject({
    type: z.literal('email'),
    ...common,
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    secure: z.boolean().default(false),
    requireTLS: z.boolean().default(false),
    insecure: z.boolean().default(false),
    user: z.string().optional(),
    pass: z.string().optional(),
    from: z.string().min(3),
    to: z.array(z.string().min(3)).min(1),
    repeatInterval: duration('4h'),
  }),
]);
export type NotifierConfig = z.output<typeof notifierConfigSchema>;

/** The notifiers of a config; names must be unique. */
export const notifierConfigsSchema = z.array(notifierConfigSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((n, i) => {
    if (seen.has(n.name))
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate notifier name "${n.name}"` });
    seen.add(n.name);
  });
});

/** Builds the notifier a validated config entry describes. */
export function createNotifier(c: NotifierConfig): Notifier {
  const base = {
    name: c.name,
    repeatIntervalMs: c.repeatInterval,
    timeoutMs: c.timeout,
    matchers: c.matchers,
  };
  switch (c.type) {
    case 'alertmanager':
      return new AlertmanagerNotifier({ ...base, url: c.url });
    case 'webhook':
      return new WebhookNotifier({ ...base, url: c.url, secret: c.secret });
    case 'slack':
      return new SlackNotifier({
        ...base,
        url: c.url,
        channel: c.channel,
        username: c.username,
      });
    case 'email':
      return new EmailNotifier({
        ...base,
        host: c.host,
        port: c.port,
        secure: c.secure,
        requireTLS: c.requireTLS,
        insecure: c.insecure,
        from: c.from,
        to: c.to,
        user: c.user,
        pass: c.pass,
      });
    default:
      return c satisfies never;
  }
}
