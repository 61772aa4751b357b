import * as z from 'zod';
import { RULE_KINDS } from '../model/alert-rules.js';
import { ALERT_STATES } from '../model/notification.js';
import { silenceInputSchema } from '../model/silences.js';
import { error, type Json, ok, pathParam, queryParams, ref } from './openapi-parts.js';
import { listAlertsQuery, listSilencesQuery } from './routes/alerts.js';

const errors = { '400': error, '401': error, '403': error, '404': error, '409': error, '503': error };
const time = { type: 'string', format: 'date-time' };
const labels = { type: 'object', additionalProperties: { type: 'string' } };

/** Component schemas of the alert and silence routes. */
export const alertSchemas: Json = {
  Alert: {
    type: 'object',
    description: 'one alert instance (fingerprint + startsAt), Alertmanager-shaped',
    properties: {
      fingerprint: { type: 'string', description: 'hash of the sorted labels' },
      monitor: { type: 'string' },
      rule: { type: 'string' },
      kind: { enum: [...RULE_KINDS] },
      labels,
      annotations: labels,
      state: { enum: [...ALERT_STATES] },
      startsAt: time,
      endsAt: { type: ['string', 'null'], format: 'date-time' },
      silencedBy: { type: ['string', 'null'], description: 'the silence that held it back (not sent)' },
      inhibitedBy: {
        type: ['string', 'null'],
        description: 'fingerprint of the cohort/fleet alert that held it back (not sent)',
      },
      updatedAt: time,
    },
  },
  AlertPage: {
    type: 'object',
    properties: {
      alerts: { type: 'array', items: ref('Alert') },
      nextCursor: { type: ['string', 'null'] },
    },
  },
  SilenceRequest: z.toJSONSchema(silenceInputSchema, { io: 'input' }),
  Silence: {
    type: 'object',
    properties: {
      id: { type: 'string', description: '`config-...` for a silence of the config file (read-only here)' },
      monitor: { type: ['string', 'null'] },
      matchers: { type: 'array', items: { type: 'string' }, description: 'e.g. pop="waw", pop=~"waw|fra"' },
      targets: { type: 'array', items: { type: 'string' }, description: 'addresses, names, CIDR blocks' },
      startsAt: time,
      endsAt: time,
      comment: { type: 'string' },
      createdBy: { type: 'string' },
      createdAt: time,
    },
  },
  SilenceList: { type: 'object', properties: { silences: { type: 'array', items: ref('Silence') } } },
};

/** Paths of the alert and silence routes (under /api/v1). */
export const alertPaths: Json = {
  '/alerts': {
    get: {
      operationId: 'listAlerts',
      summary: 'Alert history, newest first (role read): ?state=firing|resolved, ?monitor=, paged by cursor',
      parameters: queryParams(listAlertsQuery),
      responses: { '200': ok('AlertPage'), ...errors },
    },
  },
  '/silences': {
    get: {
      operationId: 'listSilences',
      summary: "Silences not yet ended, the config file's first (role read); ?all=true: also the ended ones",
      parameters: queryParams(listSilencesQuery),
      responses: { '200': ok('SilenceList'), ...errors },
    },
    post: {
      operationId: 'createSilence',
      summary:
        'Silence matching alerts between startsAt (default now) and endsAt (role operate): by monitor, label matchers, targets/CIDR',
      requestBody: { required: true, content: { 'application/json': { schema: ref('SilenceRequest') } } },
      responses: { '201': ok('Silence', 'created'), ...errors },
    },
  },
  '/silences/{id}': {
    get: {
      operationId: 'getSilence',
      summary: 'One silence (role read)',
      parameters: [pathParam('id')],
      responses: { '200': ok('Silence'), ...errors },
    },
    delete: {
      operationId: 'expireSilence',
      summary: 'End a silence now, kept for the record (role operate); 409 for one of the config file',
      parameters: [pathParam('id')],
      responses: { '204': { description: 'ended' }, ...errors },
    },
  },
};
