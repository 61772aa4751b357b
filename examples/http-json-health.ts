import { defineCheck } from 'fleetprobe';
import { request } from 'undici';
import { z } from 'zod';

/**
 * GET http://<target>:<port><path> and expect a JSON body whose `expectField` equals `expectValue`
 * (default: `{"status": "ok"}` at /health).
 *
 *   fleetprobe run http-json-health 127.0.0.1:8080 --check-module examples/http-json-health.ts
 */
export default defineCheck({
  name: 'http-json-health',
  description: 'GET a JSON health endpoint and compare one field',
  args: z.object({
    // -a port=8080 arrives as a string: coerce.
    port: z.coerce.number().int().min(1).max(65535).optional(),
    path: z.string().startsWith('/').default('/health'),
    /** Dotted path into the JSON body, e.g. `checks.db.status`. */
    expectField: z.string().min(1).default('status'),
    expectValue: z.string().default('ok'),
    maxBytes: z.coerce
      .number()
      .int()
      .positive()
      .default(64 * 1024),
  }),
  timeoutMs: 5_000,
  defaultPort: 80,
  async run(target, args, ctx) {
    const host = target.address ?? target.name;
    const port = args.port ?? target.port ?? 80;
    const url = `http://${host?.includes(':') ? `[${host}]` : host}:${port}${args.path}`;
    let statusCode: number;
    let text: string;
    try {
      const res = await request(url, {
        method: 'GET',
        signal: ctx.signal,
        headers: { accept: 'application/json' },
      });
      statusCode = res.statusCode;
      text = await readCapped(res.body, args.maxBytes);
    } catch (err) {
      // The deadline or a cancel: rethrow the reason so the result says timeout/cancelled.
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (err instanceof BodyTooLarge) return { status: 'fail', message: err.message };
      return { status: 'error', message: `GET ${url}: ${(err as Error).message}` };
    }
    if (statusCode < 200 || statusCode > 299) {
      return { status: 'fail', message: `HTTP ${statusCode}`, data: { statusCode } };
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { status: 'error', message: 'body is not JSON', data: { statusCode } };
    }
    const actual = args.expectField
      .split('.')
      .reduce<unknown>((v, key) => (isRecord(v) ? v[key] : undefined), body);
    const data = { statusCode, [args.expectField]: actual };
    return String(actual) === args.expectValue
      ? { status: 'pass', message: `${args.expectField}=${args.expectValue}`, data }
      : {
          status: 'fail',
          message: `${args.expectField}=${JSON.stringify(actual)}, expected ${args.expectValue}`,
          data,
        };
  },
});

class BodyTooLarge extends Error {}

async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): void },
  maxBytes: number,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new BodyTooLarge(`body larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
