import * as z from 'zod';
import { STATUSES } from '../engine/result.js';
import { DIFF_KINDS, RUN_STATES } from '../store/store.js';
import { alertPaths, alertSchemas } from './openapi-alerts.js';
import { heatmapPaths, heatmapSchemas } from './openapi-heatmap.js';
import { monitorPaths, monitorSchemas } from './openapi-monitors.js';
import { error, type Json, ok, pathParam, queryParams } from './openapi-parts.js';
import {
  diffQuery,
  exportResultsQuery,
  groupsQuery,
  listResultsQuery,
  listRunsQuery,
  runRequestSchema,
} from './schemas.js';

const errors = { '400': error, '401': error, '403': error, '404': error, '429': error, '503': error };
const labelParam: Json = {
  name: 'label.{key}',
  in: 'query',
  required: false,
  description:
    'label filter, repeatable with other keys: `label.pop=fra` keeps results whose label pop is fra',
  schema: { type: 'string' },
};

/** The OpenAPI 3.1 document of the API (GET /api/v1/openapi.json). Request schemas come from the zod schemas. */
export function openApiDocument(version: string): Json {
  const counts = {
    type: 'object',
    properties: Object.fromEntries(STATUSES.map((s) => [s, { type: 'integer' }])),
  };
  return {
    openapi: '3.1.0',
    info: { title: 'fleetprobe API', version },
    servers: [{ url: '/api/v1' }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'role read (GET) or operate (all)' },
      },
      schemas: {
        RunRequest: z.toJSONSchema(runRequestSchema, { io: 'input' }),
        Run: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            check: { type: 'string' },
            args: {},
            targets: {},
            options: {},
            state: { enum: [...RUN_STATES] },
            total: { type: ['integer', 'null'] },
            counts,
            createdAt: { type: 'string', format: 'date-time' },
            startedAt: { type: ['string', 'null'], format: 'date-time' },
            finishedAt: { type: ['string', 'null'], format: 'date-time' },
            error: { type: ['string', 'null'] },
          },
        },
        Result: {
          type: 'object',
          properties: {
            run: { type: 'string' },
            target: { type: 'string' },
            port: { type: ['integer', 'null'] },
            name: { type: ['string', 'null'] },
            labels: { type: 'object', additionalProperties: { type: 'string' } },
            check: { type: 'string' },
            status: { enum: [...STATUSES] },
            durationMs: { type: 'number' },
            startedAt: { type: 'string', format: 'date-time' },
            attempts: { type: 'integer' },
            message: { type: 'string' },
            reason: {
              type: 'string',
              description:
                'the stable template of the message (`expected <expected>, got <answers>`): failure groups are keyed by status and reason',
            },
            data: { type: 'object' },
          },
        },
        FailureGroup: {
          type: 'object',
          properties: {
            status: { enum: [...STATUSES] },
            reason: { type: 'string' },
            count: { type: 'integer' },
            message: { type: 'string', description: 'one message of the group' },
            messagesVary: { type: 'boolean', description: 'whether the messages of the group differ' },
            targets: {
              type: 'array',
              items: { type: 'string' },
              description: 'folded: IPv4 CIDRs and a.b.c.[1-3,7] ranges in address order, then other targets',
            },
            names: { type: 'array', items: { type: 'string' } },
            unlisted: {
              type: 'integer',
              description: 'targets or names counted but not listed (lists are bounded)',
            },
          },
        },
        GroupList: {
          type: 'object',
          properties: {
            groups: { type: 'array', items: { $ref: '#/components/schemas/FailureGroup' } },
            groupCount: { type: 'integer', description: 'groups in all (more than listed when over limit)' },
          },
        },
        DiffSummary: {
          type: 'object',
          properties: Object.fromEntries(
            [...DIFF_KINDS, 'unchanged', 'totalBefore', 'totalNow'].map((k) => [k, { type: 'integer' }]),
          ),
        },
        RunPage: {
          type: 'object',
          properties: {
            runs: { type: 'array', items: { $ref: '#/components/schemas/Run' } },
            nextCursor: { type: ['string', 'null'] },
          },
        },
        ResultPage: {
          type: 'object',
          properties: {
            results: { type: 'array', items: { $ref: '#/components/schemas/Result' } },
            nextCursor: { type: ['string', 'null'] },
            total: { type: 'integer', description: 'matching results in all (with total=true)' },
          },
        },
        DiffPage: {
          type: 'object',
          properties: {
            changes: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  target: { type: 'string' },
                  port: { type: ['integer', 'null'] },
                  from: { enum: [...STATUSES, null] },
                  to: { enum: [...STATUSES, null] },
                  fromMessage: { type: ['string', 'null'] },
                  toMessage: { type: ['string', 'null'] },
                },
              },
            },
            nextCursor: { type: ['string', 'null'] },
            summary: {
              $ref: '#/components/schemas/DiffSummary',
              description: 'on the first page (no cursor) only',
            },
          },
        },
        WorkerList: {
          type: 'object',
          properties: {
            workers: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  name: { type: 'string' },
                  id: { type: 'string' },
                  state: { enum: ['running', 'draining', 'stopped'] },
                  inFlight: { type: 'integer', description: 'checks in flight at the last heartbeat' },
                  shards: { type: 'integer' },
                  processed: { type: 'integer' },
                  startedAt: { type: 'string', format: 'date-time' },
                  lastSeen: { type: 'string', format: 'date-time', description: "the coordinator's clock" },
                  live: { type: 'boolean', description: 'heard within 3 heartbeat periods' },
                },
              },
            },
          },
        },
        Health: {
          type: 'object',
          properties: {
            ok: { type: 'boolean' },
            store: { enum: ['sqlite', 'postgres'] },
            runs: { type: 'integer', description: 'runs in flight' },
            error: { type: 'string' },
          },
        },
        ...monitorSchemas,
        ...heatmapSchemas,
        ...alertSchemas,
        Error: {
          type: 'object',
          required: ['error', 'message'],
          properties: {
            error: { type: 'string' },
            message: { type: 'string', description: 'names the bad field' },
          },
        },
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/runs': {
        post: {
          operationId: 'createRun',
          summary:
            'Start a run (role operate). 403 when a target or an address argument (dns server) is outside ' +
            '--allow-targets; 400 when a file argument (identity, knownHosts, ca) is not the name of a ' +
            'credential configured on the server.',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/RunRequest' } } },
          },
          responses: { '202': ok('Run', 'queued'), ...errors },
        },
        get: {
          operationId: 'listRuns',
          summary: 'List runs, newest first (`idPrefix`: runs whose id starts with it)',
          parameters: queryParams(listRunsQuery),
          responses: { '200': ok('RunPage'), ...errors },
        },
      },
      '/runs/{id}': {
        get: {
          operationId: 'getRun',
          summary: 'A run with counters, live progress and timings',
          parameters: [pathParam('id')],
          responses: { '200': ok('Run'), ...errors },
        },
      },
      '/runs/{id}/results': {
        get: {
          operationId: 'listResults',
          summary:
            'Results of a run (keyset pages, in completion order), filtered; total=true adds the match count',
          parameters: [pathParam('id'), ...queryParams(listResultsQuery), labelParam],
          responses: { '200': ok('ResultPage'), ...errors },
        },
      },
      '/runs/{id}/results.jsonl': {
        get: {
          operationId: 'exportResultsJsonl',
          summary: 'Every matching result as JSON lines, streamed from the store page by page',
          parameters: [pathParam('id'), ...queryParams(exportResultsQuery), labelParam],
          responses: {
            '200': { description: 'one result per line', content: { 'application/x-ndjson': {} } },
            ...errors,
          },
        },
      },
      '/runs/{id}/results.csv': {
        get: {
          operationId: 'exportResultsCsv',
          summary: 'Every matching result as CSV (the columns of `fleetprobe run -o csv`), streamed',
          parameters: [pathParam('id'), ...queryParams(exportResultsQuery), labelParam],
          responses: {
            '200': { description: 'a header, then one row per result', content: { 'text/csv': {} } },
            ...errors,
          },
        },
      },
      '/runs/{id}/groups': {
        get: {
          operationId: 'listFailureGroups',
          summary:
            'Failure groups: results grouped by (status, reason), largest first, with folded targets and names',
          parameters: [pathParam('id'), ...queryParams(groupsQuery)],
          responses: { '200': ok('GroupList'), ...errors },
        },
      },
      '/runs/{id}/previous': {
        get: {
          operationId: 'previousRun',
          summary:
            'The newest earlier run of the same series (same check, args and targets), the default diff baseline: `{previous: Run | null}`',
          parameters: [pathParam('id')],
          responses: {
            '200': {
              description: 'OK',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      previous: { oneOf: [{ $ref: '#/components/schemas/Run' }, { type: 'null' }] },
                    },
                  },
                },
              },
            },
            ...errors,
          },
        },
      },
      '/runs/{id}/events': {
        get: {
          operationId: 'runEvents',
          summary:
            'Server-sent events: `progress` every 500 ms ({state,done,total,counts,inFlight,rate}), then `done` (the run); 503 when --max-sse streams are open',
          parameters: [pathParam('id')],
          responses: {
            '200': { description: 'text/event-stream', content: { 'text/event-stream': {} } },
            ...errors,
          },
        },
      },
      '/runs/{id}/cancel': {
        post: {
          operationId: 'cancelRun',
          summary: 'Cancel a run (role operate); answers once it has stopped',
          parameters: [pathParam('id')],
          responses: { '200': ok('Run'), ...errors },
        },
      },
      '/config': {
        get: {
          operationId: 'getConfig',
          summary:
            'The config file in force (server --config): file, generation, loadedAt, counts, monitors added/removed/changed by its load',
          responses: { '200': { description: 'summary' }, ...errors },
        },
      },
      '/config/reload': {
        post: {
          operationId: 'reloadConfig',
          summary:
            'Reload the config file (role operate): 200 with the new summary; 400 naming file:line:column when it is invalid (the running config is kept)',
          responses: { '200': { description: 'summary' }, ...errors },
        },
      },
      '/runs/{a}/diff/{b}': {
        get: {
          operationId: 'diffRuns',
          summary:
            'Targets whose status differs between runs a (before) and b (now), in address order, with both messages',
          parameters: [pathParam('a'), pathParam('b'), ...queryParams(diffQuery)],
          responses: { '200': ok('DiffPage'), ...errors },
        },
      },
      ...monitorPaths,
      ...heatmapPaths,
      ...alertPaths,
      '/workers': {
        get: {
          operationId: 'listWorkers',
          summary:
            'Workers heard by the coordinator (distributed mode, `server --nats`; 404 otherwise), role read',
          responses: { '200': ok('WorkerList'), ...errors },
        },
      },
      '/openapi.json': {
        get: {
          operationId: 'getOpenApi',
          summary: 'This document (public)',
          security: [],
          responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': {} } } },
        },
      },
      // Outside /api/v1: the server root.
      '/healthz': {
        servers: [{ url: '/' }],
        get: {
          operationId: 'getHealth',
          summary: 'Liveness and store reachability (public); 503 when the store does not answer',
          security: [],
          responses: { '200': ok('Health'), '503': ok('Health', 'store unavailable') },
        },
      },
      '/probe': {
        servers: [{ url: '/' }],
        get: {
          operationId: 'probe',
          summary:
            "blackbox_exporter-compatible probe (role read; public with --metrics-public): runs the module's check once against the target and answers its series in the Prometheus text format (probe_success, probe_duration_seconds, probe_http_*, probe_ssl_earliest_cert_expiry, probe_dns_*); 200 whatever the target did",
          parameters: [
            {
              name: 'module',
              in: 'query',
              required: true,
              description: 'A probe module configured on the server (probeModules, --probe-module)',
              schema: { type: 'string' },
            },
            {
              name: 'target',
              in: 'query',
              required: true,
              description:
                'http modules: a URL (its scheme, port and path are used) or host[:port]; other checks: host[:port] (dns: the server asked)',
              schema: { type: 'string' },
            },
            {
              name: 'X-Prometheus-Scrape-Timeout-Seconds',
              in: 'header',
              required: false,
              description:
                "Prometheus' scrape timeout: the probe's deadline is this less 0.5 s, at most the module's timeout",
              schema: { type: 'number' },
            },
          ],
          responses: {
            '200': { description: 'text/plain; version=0.0.4', content: { 'text/plain': {} } },
            '400': error,
            '401': error,
            '403': error,
            '503': error,
          },
        },
      },
      '/metrics': {
        servers: [{ url: '/' }],
        get: {
          operationId: 'getMetrics',
          summary:
            'Prometheus text format (role read; public with --metrics-public): checks and runs by status, check latency histogram, in flight; per monitor: targets by state, last round start, duration and lateness, skipped rounds; notifier deliveries by outcome; with --metrics-label, targets by that label and state',
          responses: {
            '200': { description: 'text/plain; version=0.0.4', content: { 'text/plain': {} } },
            '401': error,
            '403': error,
          },
        },
      },
    },
  };
}
