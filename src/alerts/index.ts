export {
  AlertRecorder,
  type AlertRecorderOptions,
  alertOfRecord,
  type RecordOutcome,
} from './alert-recorder.js';
export { NotifyError } from './errors.js';
export { AlertEvaluator, type Evaluation, p95Of } from './evaluator.js';
export { fingerprintOf } from './fingerprint.js';
export { AlertmanagerNotifier, alertmanagerLabelName } from './notifiers/alertmanager-notifier.js';
export { EmailNotifier } from './notifiers/email-notifier.js';
export {
  type DeliveryContext,
  NOTIFIER_TYPES,
  type Notifier,
  type NotifierType,
} from './notifiers/notifier.js';
export {
  createNotifier,
  type NotifierConfig,
  notifierConfigSchema,
  notifierConfigsSchema,
} from './notifiers/notifier-config.js';
export { SlackNotifier } from './notifiers/slack-notifier.js';
export {
  DELIVERY_HEADER,
  SIGNATURE_HEADER,
  signBody,
  TIMESTAMP_HEADER,
  verifySignature,
  WebhookNotifier,
} from './notifiers/webhook-notifier.js';
export {
  type DeliveryCounters,
  OutboxDispatcher,
  type OutboxDispatcherOptions,
  type PassOutcome,
} from './outbox-dispatcher.js';
export {
  type Alert,
  type LastResult,
  notificationOf,
  type RoundSnapshot,
  type TargetStatus,
} from './types.js';
