import * as z from 'zod';
import { STATUSES } from '../engine/result.js';
import { TARGET_STATES } from '../model/monitor-spec.js';
import {
  monitorCreateSchema,
  monitorPatchSchema,
  monitorTargetsQuery,
  monitorTransitionsQuery,
  targetHistoryQuery,
} from './monitor-request.js';
import { error, type Json, ok, pathParam, queryParams, ref } from './openapi-parts.js';

const errors = { '400': error, '401': error, '403': error, '404': error, '409': error, '503': error };
const body = (schema: string) => ({
  required: true,
  content: { 'application/json': { schema: ref(schema) } },
});
const state = { enum: [...TARGET_STATES] };
const time = { type: 'string', format: 'date-time' };

/** Component schemas of the monitor routes. */
export const monitorSchemas: Json = {
  MonitorRequest: z.toJSONSchema(monitorCreateSchema, { io: 'input' }),
  MonitorPatch: z.toJSONSchema(monitorPatchSchema, { io: 'input' }),
  Monitor: {
    type: 'object',
    properties: {
      name: { type: 'string' },
      source: {
        enum: ['config', 'api'],
        description: 'config: defined in the config file, read-only here (409)',
      },
      check: { type: 'string' },
      args: { type: 'object' },
      inventory: { description: 'an inventory name (config) or {targets: [...]}' },
      intervalMs: { type: 'integer' },
      timeoutMs: { type: 'integer' },
      concurrency: { type: 'integer' },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      downAfter: { type: 'integer' },
      upAfter: { type: 'integer' },
      paused: { type: 'boolean' },
      alerts: {
        type: 'array',
        items: { type: 'object' },
        description:
          "alert rules of an API monitor as parsed (`for` in ms; absent without rules); a config monitor's are in its config file",
      },
      status: {
        type: ['object', 'null'],
        properties: {
          running: { type: 'boolean' },
          rounds: { type: 'integer', description: 'started since the server started' },
          skipped: { type: 'integer', description: 'skipped since the server started' },
          nextDueAt: { type: ['string', 'null'], format: 'date-time' },
          targets: { type: 'integer' },
          states: {
            type: 'object',
            properties: Object.fromEntries(TARGET_STATES.map((s) => [s, { type: 'integer' }])),
          },
          lastRound: {
            type: ['object', 'null'],
            properties: {
              seq: { type: 'integer' },
              runId: { type: 'string', description: 'the stored run of the round' },
              state: { type: 'string' },
              startedAt: time,
              finishedAt: { type: ['string', 'null'], format: 'date-time' },
              latenessMs: { type: ['number', 'null'] },
            },
          },
        },
      },
    },
  },
  MonitorList: { type: 'object', properties: { monitors: { type: 'array', items: ref('Monitor') } } },
  MonitorTarget: {
    type: 'object',
    properties: {
      monitor: { type: 'string' },
      target: { type: 'string' },
      port: { type: ['integer', 'null'] },
      name: { type: ['string', 'null'] },
      labels: { type: 'object', additionalProperties: { type: 'string' } },
      state,
      since: time,
      lastAt: { type: ['string', 'null'], format: 'date-time' },
      lastStatus: { enum: [...STATUSES, null] },
      lastRun: { type: ['string', 'null'] },
    },
  },
  MonitorTargetPage: {
    type: 'object',
    properties: {
      targets: { type: 'array', items: ref('MonitorTarget') },
      nextCursor: { type: ['string', 'null'] },
    },
  },
  Transition: {
    type: 'object',
    properties: {
      id: { type: 'string' },
      monitor: { type: 'string' },
      target: { type: 'string' },
      port: { type: ['integer', 'null'] },
      at: time,
      from: state,
      to: state,
      run: { type: 'string', description: 'the round whose result caused it' },
      status: { enum: [...STATUSES] },
      message: { type: 'string' },
    },
  },
  TransitionPage: {
    type: 'object',
    properties: {
      transitions: { type: 'array', items: ref('Transition') },
      nextCursor: { type: ['string', 'null'] },
    },
  },
  TargetHistory: {
    type: 'object',
    properties: {
      target: { type: 'string' },
      monitors: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            monitor: { type: 'string' },
            states: { type: 'array', items: ref('MonitorTarget') },
            transitions: {
              type: 'array',
              items: ref('Transition'),
              description: 'newest first, at most 100',
            },
            uptime: {
              type: 'object',
              description: 'share of passing results (0..1), null without results',
              properties: {
                h24: { type: ['number', 'null'] },
                d7: { type: ['number', 'null'] },
                d30: { type: ['number', 'null'] },
              },
            },
            latency: {
              type: 'array',
              description: 'hourly rollups, oldest first',
              items: {
                type: 'object',
                properties: {
                  hour: time,
                  pass: { type: 'integer' },
                  fail: { type: 'integer' },
                  error: { type: 'integer' },
                  timeout: { type: 'integer' },
                  latMinMs: { type: ['number', 'null'] },
                  latMeanMs: { type: ['number', 'null'] },
                  latP95Ms: { type: ['number', 'null'] },
                  latMaxMs: { type: ['number', 'null'] },
                },
              },
            },
          },
        },
      },
    },
  },
};

const name = pathParam('name');

/** Paths of the monitor routes (under /api/v1). */
export const monitorPaths: Json = {
  '/monitors': {
    get: {
      operationId: 'listMonitors',
      summary: 'Every monitor (config file and API) with its live status',
      responses: { '200': ok('MonitorList'), ...errors },
    },
    post: {
      operationId: 'createMonitor',
      summary:
        'Define a monitor (role operate), validated as a run is (403 outside --allow-targets, credentials by name); 409 when the name exists',
      requestBody: body('MonitorRequest'),
      responses: { '201': ok('Monitor', 'created and started'), ...errors },
    },
  },
  '/monitors/{name}': {
    get: {
      operationId: 'getMonitor',
      summary: 'A monitor with its live status (state counts, last round)',
      parameters: [name],
      responses: { '200': ok('Monitor'), ...errors },
    },
    patch: {
      operationId: 'updateMonitor',
      summary: 'Change an API monitor (role operate); its target states are kept. 409 for a config monitor',
      parameters: [name],
      requestBody: body('MonitorPatch'),
      responses: { '200': ok('Monitor'), ...errors },
    },
    delete: {
      operationId: 'deleteMonitor',
      summary:
        'Delete an API monitor and its states, transitions and rollups (role operate; its runs stay). 409 for a config monitor',
      parameters: [name],
      responses: { '204': { description: 'deleted' }, ...errors },
    },
  },
  '/monitors/{name}/pause': {
    post: {
      operationId: 'pauseMonitor',
      summary: 'Pause a monitor (role operate; persisted, config monitors too); a running round finishes',
      parameters: [name],
      responses: { '200': ok('Monitor'), ...errors },
    },
  },
  '/monitors/{name}/resume': {
    post: {
      operationId: 'resumeMonitor',
      summary: 'Resume a monitor (role operate; persisted)',
      parameters: [name],
      responses: { '200': ok('Monitor'), ...errors },
    },
  },
  '/monitors/{name}/targets': {
    get: {
      operationId: 'listMonitorTargets',
      summary:
        'Current state per target, by address and port, keyset-paged; `label.<key>=<value>` filters (repeatable)',
      parameters: [name, ...queryParams(monitorTargetsQuery)],
      responses: { '200': ok('MonitorTargetPage'), ...errors },
    },
  },
  '/monitors/{name}/transitions': {
    get: {
      operationId: 'listMonitorTransitions',
      summary:
        'State changes of a monitor at or after `since`, oldest first, each with the result that caused it',
      parameters: [name, ...queryParams(monitorTransitionsQuery)],
      responses: { '200': ok('TransitionPage'), ...errors },
    },
  },
  '/targets/{address}/history': {
    get: {
      operationId: 'getTargetHistory',
      summary:
        'A target in each monitor (or the one named): current state, transitions, uptime over 24 h / 7 d / 30 d, hourly latency series',
      parameters: [pathParam('address'), ...queryParams(targetHistoryQuery)],
      responses: { '200': ok('TargetHistory'), ...errors },
    },
  },
};
