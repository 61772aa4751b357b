import * as z from 'zod';

/** The building blocks every part of the OpenAPI document uses (openapi.ts and its per-area files). */
export type Json = Record<string, unknown>;

/** A zod query schema as OpenAPI query parameters (all optional, as the routes treat them). */
export const queryParams = (schema: z.ZodObject): Json[] => {
  const js = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, Json> };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: false,
    schema: s,
  }));
};

export const pathParam = (name: string): Json => ({
  name,
  in: 'path',
  required: true,
  schema: { type: 'string' },
});

export const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });

export const ok = (schema: string, description = 'OK'): Json => ({
  description,
  content: { 'application/json': { schema: ref(schema) } },
});

export const error: Json = {
  description: 'error',
  content: { 'application/json': { schema: ref('Error') } },
};
