import { z } from 'zod';
import { STATUSES } from '../engine/result.js';
import { RUN_STATES } from '../store/store.js';
import { diffQuery, listResultsQuery, listRunsQuery, runRequestSchema } from './schemas.js';

type Json = Record<string, unknown>;

const queryParams = (schema: z.ZodObject): Json[] => {
  const js = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, Json> };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: false,
    schema: s,
  }));
};
const pathParam = (name: string): Json => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const error = {
  description: 'error',
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
};
const ok = (ref: string, description = 'OK'): Json => ({
  description,
  content: { 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } },
});
const errors = { '400': error, '401': error, '403': error, '404': error, '503': error };

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
            data: { type: 'object' },
          },
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
                },
              },
            },
            nextCursor: { type: ['string', 'null'] },
          },
        },
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
          summary: 'List runs, newest first',
          parameters: queryParams(listRunsQuery),
          responses: { '200': ok('RunPage'), ...errors },
        },
      },
      '/runs/{id}': {
        get: {
          summary: 'A run with counters, live progress and timings',
          parameters: [pathParam('id')],
          responses: { '200': ok('Run'), ...errors },
        },
      },
      '/runs/{id}/results': {
        get: {
          summary: 'Results of a run (cursor-paged, in completion order)',
          parameters: [pathParam('id'), ...queryParams(listResultsQuery)],
          responses: { '200': ok('ResultPage'), ...errors },
        },
      },
      '/runs/{id}/events': {
        get: {
          summary:
            'Server-sent events: `progress` every 500 ms ({state,done,total,counts,inFlight,rate}), then `done` (the run)',
          parameters: [pathParam('id')],
          responses: {
            '200': { description: 'text/event-stream', content: { 'text/event-stream': {} } },
            ...errors,
          },
        },
      },
      '/runs/{id}/cancel': {
        post: {
          summary: 'Cancel a run (role operate); answers once it has stopped',
          parameters: [pathParam('id')],
          responses: { '200': ok('Run'), ...errors },
        },
      },
      '/runs/{a}/diff/{b}': {
        get: {
          summary: 'Targets whose status differs between runs a and b',
          parameters: [pathParam('a'), pathParam('b'), ...queryParams(diffQuery)],
          responses: { '200': ok('DiffPage'), ...errors },
        },
      },
    },
  };
}
