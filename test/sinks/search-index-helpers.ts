import { createRequire } from 'node:module';
import type { BaseConnection } from '@elastic/elasticsearch';
import { createSearchClient } from '../../src/sinks/search/client.js';

// The mock is CommonJS (`module.exports = Mocker`) and checks `instanceof` against the CommonJS build's
// error classes: both come through `require`.
const require = createRequire(import.meta.url);
const Mock = require('@elastic/elasticsearch-mock') as new () => ClientMock;
const { errors } = require('@elastic/elasticsearch') as {
  errors: { ResponseError: new (meta: unknown) => Error };
};

/** The part of `@elastic/elasticsearch-mock`'s `ClientMock` these tests use. */
export interface ClientMock {
  add(pattern: { method: string; path: string }, resolver: (params: { body: unknown }) => unknown): unknown;
  getConnection(): typeof BaseConnection;
}

/** A whole-request error answer the mock sends with this status. */
export function responseError(statusCode: number, type = 'es_rejected_execution_exception'): Error {
  return new errors.ResponseError({
    body: { error: { type, reason: `status ${statusCode}` }, status: statusCode },
    statusCode,
    headers: {},
    warnings: null,
    meta: {},
  });
}

/** One `create` action of a bulk request, as the mock parses it. */
export interface BulkAction {
  index: string;
  id: string;
  doc: Record<string, unknown>;
}

/** What a test answers for one bulk request: a whole-request error, or a status (and error type) per item. */
export type BulkAnswer = Error | ((action: BulkAction) => number | { status: number; type: string });

/**
 * Elastic's `@elastic/elasticsearch-mock` serving `POST /_bulk` through `answer`; `requests` records every
 * bulk request's actions, in order.
 */
export function bulkMock(answer: (actions: BulkAction[], n: number) => BulkAnswer = () => () => 201) {
  const mock = new Mock();
  const requests: BulkAction[][] = [];
  mock.add({ method: 'POST', path: '/_bulk' }, (params) => {
    const body = params.body as Record<string, unknown>[];
    const actions: BulkAction[] = [];
    for (let i = 0; i < body.length; i += 2) {
      const create = body[i]!.create as { _index: string; _id: string };
      actions.push({ index: create._index, id: create._id, doc: body[i + 1]! });
    }
    requests.push(actions);
    const a = answer(actions, requests.length);
    if (a instanceof Error) return a;
    let errorsSeen = false;
    const items = actions.map((action) => {
      const r = a(action);
      const { status, type } = typeof r === 'number' ? { status: r, type: 'error' } : r;
      if (status >= 300) errorsSeen = true;
      return {
        create: {
          _index: action.index,
          _id: action.id,
          status,
          ...(status >= 300
            ? { error: { type, reason: `${type} for ${action.id}` } }
            : { result: 'created' }),
        },
      };
    });
    return { took: 1, errors: errorsSeen, items };
  });
  return { mock, requests };
}

/**
 * A connection that holds every request until the test releases it (a slow index), honouring the request's
 * abort signal as a real connection does. `waiting` counts held requests.
 */
export function gatedConnection(mock: ClientMock) {
  const held: (() => void)[] = [];
  const waiters: (() => void)[] = [];
  const Base = mock.getConnection() as unknown as new (
    ...a: unknown[]
  ) => { request(p: unknown, o: { signal?: AbortSignal }): Promise<unknown> };
  class Gated extends Base {
    override async request(params: unknown, options: { signal?: AbortSignal }): Promise<unknown> {
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          const i = held.indexOf(release);
          if (i !== -1) held.splice(i, 1);
          const err = new Error('Request aborted');
          err.name = 'RequestAbortedError';
          reject(err);
        };
        const release = () => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        held.push(release);
        options.signal?.addEventListener('abort', onAbort, { once: true });
        for (const w of waiters.splice(0)) w();
      });
      return super.request(params, options);
    }
  }
  return {
    Connection: Gated as unknown as typeof BaseConnection,
    get waiting() {
      return held.length;
    },
    /** Resolves once `n` requests are held. */
    async untilWaiting(n: number): Promise<void> {
      while (held.length < n) await new Promise<void>((r) => waiters.push(r));
    },
    releaseOne(): void {
      held.shift()?.();
    },
    releaseAll(): void {
      for (const r of held.splice(0)) r();
    },
  };
}

export function mockClient(Connection: typeof BaseConnection) {
  return createSearchClient({ node: 'http://127.0.0.1:9200' }, { Connection });
}
