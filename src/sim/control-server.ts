import { once } from 'node:events';
import http from 'node:http';
import { isFleetprobeError } from '../core/errors.js';
import { type FaultOverrideRequest, type FaultOverrides, SimFaultError } from './fault-overrides.js';
import type { FleetModel } from './fleet-model.js';
import { DEFAULT_MANIFEST_TIMEOUT_MS, manifestEntry } from './manifest.js';

/** Largest request body the control endpoint reads. */
const MAX_BODY_BYTES = 16 * 1024;

export interface ControlServerOptions {
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Default `127.0.0.1`: the control endpoint is never meant to leave the machine. */
  readonly host?: string;
}

export interface ControlServer {
  readonly port: number;
  /** Stops listening and ends open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * The simulator's control endpoint (`fleetprobe sim --control <port>`), plain JSON over HTTP:
 * - `GET /faults`: the overrides in force, oldest first;
 * - `POST /faults {"range":"127.20.0.0/26","fault":"refused","protocol":"tcp"}` (protocol optional,
 *   default every protocol knowing the fault): 201 with the override; a bad body is 400 `{code, message}`;
 * - `DELETE /faults`: back to the seeded model; `DELETE /faults/<id>`: one override;
 * - `GET /hosts/<address>`: that host's current faults and expectations;
 * - `GET /manifest[?timeoutMs=2000]`: the current expectations of every host as JSONL (the `--manifest`
 *   file is a snapshot taken at start; this one reflects the overrides).
 */
export async function startControlServer(
  model: FleetModel,
  faults: FaultOverrides,
  options: ControlServerOptions = {},
): Promise<ControlServer> {
  const server = http.createServer((req, res) => {
    handle(model, faults, req, res).catch((err: unknown) => {
      if (!res.headersSent) reply(res, 500, { code: 'FP_INTERNAL', message: String(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([err]) => {
      throw err;
    }),
  ]);
  const address = server.address();
  let closing: Promise<void> | undefined;
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function handle(
  model: FleetModel,
  faults: FaultOverrides,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://control');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  if (path === '/faults') {
    if (req.method === 'GET') return reply(res, 200, { overrides: faults.list() });
    if (req.method === 'DELETE') return reply(res, 200, { removed: faults.clear() });
    if (req.method === 'POST') {
      let body: FaultOverrideRequest;
      try {
        body = JSON.parse(await readBody(req)) as FaultOverrideRequest;
        if (typeof body !== 'object' || body === null)
          throw new SimFaultError('body: a JSON object is required');
        return reply(res, 201, { override: faults.set(body) });
      } catch (err) {
        return replyError(res, err);
      }
    }
    return reply(res, 405, { code: 'FP_SIM_FAULT', message: `${req.method} /faults is not supported` });
  }
  const one = /^\/faults\/(\d+)$/.exec(path);
  if (one && req.method === 'DELETE') {
    return faults.remove(Number(one[1]))
      ? reply(res, 200, { removed: 1 })
      : reply(res, 404, { code: 'FP_SIM_FAULT', message: `no override ${one[1]}` });
  }
  const hostMatch = /^\/hosts\/([^/]+)$/.exec(path);
  if (hostMatch && req.method === 'GET') {
    const host = model.hostAt(decodeURIComponent(hostMatch[1] ?? ''));
    if (!host) return reply(res, 404, { code: 'FP_SIM_FAULT', message: 'no such host in the fleet' });
    return reply(res, 200, manifestEntry(host, timeoutOf(url)));
  }
  if (path === '/manifest' && req.method === 'GET') return streamManifest(model, timeoutOf(url), res);
  reply(res, 404, { code: 'FP_SIM_FAULT', message: `no route ${req.method} ${path}` });
}

function timeoutOf(url: URL): number {
  const t = Number(url.searchParams.get('timeoutMs') ?? DEFAULT_MANIFEST_TIMEOUT_MS);
  return Number.isFinite(t) && t > 0 ? t : DEFAULT_MANIFEST_TIMEOUT_MS;
}

async function streamManifest(model: FleetModel, timeoutMs: number, res: http.ServerResponse): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  for (let i = 0; i < model.size; i++) {
    if (res.destroyed) return;
    if (!res.write(`${JSON.stringify(manifestEntry(model.host(i), timeoutMs))}\n`)) {
      await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
  }
  res.end();
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_BODY_BYTES) {
        reject(new SimFaultError(`body: larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

function replyError(res: http.ServerResponse, err: unknown): void {
  if (err instanceof SyntaxError) {
    reply(res, 400, { code: 'FP_SIM_FAULT', message: `body: not valid JSON: ${err.message}` });
  } else if (isFleetprobeError(err, 'FP_SIM_FAULT')) {
    reply(res, 400, { code: err.code, message: err.message });
  } else {
    throw err;
  }
}

function reply(res: http.ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
