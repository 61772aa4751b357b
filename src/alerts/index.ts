export {
  AlertRecorder,
  type AlertRecorderOptions,
  alertOfRecord,
  type RecordOutcome,
} from './alert-recorder.js';
export { NotifyError } from './errors.js';
export { AlertEvaluator, type Evaluation, p95Of } from './evaluator.js';
export { fingerprintOf } from './fingerprint.js';
export {
  LabelMatcher,
  MATCH_OPS,
  type MatchOp,
  matcherSchema,
  matchesAll,
  parseMatcher,
} from './matchers.js';
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
  type AlertRule,
  type AlertRuleInput,
  alertRuleSchema,
  alertRulesSchema,
  SEVERITIES,
  type Severity,
} from './rules.js';
export {
  type Silence,
  type SilenceInput,
  silenceActive,
  silencedBy,
  silenceInputSchema,
  silenceMatches,
} from './silences.js';
export {
  ALERT_STATES,
  type Alert,
  type AlertState,
  type LastResult,
  type Notification,
  notificationOf,
  type RoundSnapshot,
  RULE_KINDS,
  type RuleKind,
  type TargetStatus,
} from './types.js';
