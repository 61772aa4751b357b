import * as z from 'zod';
import { TARGET_STATES } from '../model/monitor-spec.js';
import { error, type Json } from './openapi-parts.js';
import { heatmapQuery } from './routes/monitor-heatmap.js';

const count = { type: 'integer' };

/** Component schema of GET /monitors/{name}/heatmap (src/server/routes/monitor-heatmap.ts). */
export const heatmapSchemas: Json = {
  Heatmap: {
    type: 'object',
    properties: {
      monitor: { type: 'string' },
      by: { type: ['string', 'null'] },
      keys: { type: 'array', items: { type: 'string' }, description: 'every label key of the targets' },
      total: count,
      rows: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            value: { type: ['string', 'null'], description: 'null: the targets without that label' },
            total: count,
            states: { type: 'object', properties: Object.fromEntries(TARGET_STATES.map((s) => [s, count])) },
          },
        },
      },
      truncated: { type: 'boolean', description: 'more than 500 label values: the rest are left out' },
    },
  },
};

const byParam = z.toJSONSchema(heatmapQuery, { io: 'input' }).properties?.by;

export const heatmapPaths: Json = {
  '/monitors/{name}/heatmap': {
    get: {
      operationId: 'getMonitorHeatmap',
      summary:
        'Current target counts per state for each value of one label (`by`), and the label keys to choose from',
      parameters: [
        { name: 'name', in: 'path', required: true, schema: { type: 'string' } },
        { name: 'by', in: 'query', required: false, schema: byParam },
      ],
      responses: {
        '200': {
          description: 'OK',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Heatmap' } } },
        },
        '400': error,
        '401': error,
        '404': error,
      },
    },
  },
};
