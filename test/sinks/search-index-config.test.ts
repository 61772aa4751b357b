import { describe, expect, it } from 'vitest';
import { parseSearchIndexUrl } from '../../src/sinks/search/client.js';
import { IndexNamePattern } from '../../src/sinks/search/index-name.js';
import { SearchIndexSink } from '../../src/sinks/search-index-sink.js';
import { bulkMock, type ClientMock, mockClient } from './search-index-helpers.js';

describe('IndexNamePattern', () => {
  it('dates each document by its own UTC timestamp', () => {
    const p = new IndexNamePattern('fleetprobe-results-YYYY.MM.DD');
    expect(p.nameFor('2026-11-30T23:59:59.999-01:00')).toBe('fleetprobe-results-2026.12.01');
    expect(p.nameFor(Date.UTC(2027, 0, 2))).toBe('fleetprobe-results-2027.01.02');
    expect(new IndexNamePattern('fleetprobe-YYYY.MM').nameFor('2026-03-05T00:00:00Z')).toBe(
      'fleetprobe-2026.03',
    );
    expect(new IndexNamePattern('fleetprobe').nameFor('2026-03-05T00:00:00Z')).toBe('fleetprobe');
  });

  it.each([
    ['', 'is empty'],
    ['Results', 'lowercase'],
    ['a b', 'lowercase'],
    ['a/b', 'lowercase'],
    ['-x', 'must not start'],
    ['..', 'must not be'],
    ['x'.repeat(256), 'longer than 255'],
  ])('refuses %j: one line naming the flag (exit 2)', (pattern, why) => {
    expect(() => new IndexNamePattern(pattern)).toThrow(expect.objectContaining({ code: 'FP_USAGE' }));
    expect(() => new IndexNamePattern(pattern)).toThrow(/^--search-index-name: /);
    expect(() => new IndexNamePattern(pattern)).toThrow(why);
  });
});

describe('parseSearchIndexUrl', () => {
  it('takes credentials from the URL userinfo and strips them from the node URL', () => {
    expect(parseSearchIndexUrl('https://el%40stic:p%3Ass@127.0.0.1:9200/', undefined)).toEqual({
      node: 'https://127.0.0.1:9200',
      auth: { username: 'el@stic', password: 'p:ss' },
    });
  });

  it('or from FLEETPROBE_SEARCH_AUTH: user:password, ApiKey, Bearer', () => {
    const url = 'http://127.0.0.1:9200';
    expect(parseSearchIndexUrl(url, 'u:p:w').auth).toEqual({ username: 'u', password: 'p:w' });
    expect(parseSearchIndexUrl(url, 'ApiKey abc==').auth).toEqual({ apiKey: 'abc==' });
    expect(parseSearchIndexUrl(url, 'Bearer tok').auth).toEqual({ bearer: 'tok' });
    expect(parseSearchIndexUrl(url, undefined)).toEqual({ node: url });
  });

  it.each([
    ['not a url', undefined, /is not a URL/],
    ['ftp://127.0.0.1', undefined, /is not http: or https:/],
    ['http://u:p@127.0.0.1', 'x:y', /give them once/],
    ['http://127.0.0.1', 'secret-without-colon', /FLEETPROBE_SEARCH_AUTH: expected/],
  ])('refuses %j (auth %j) with a usage error', (url, env, why) => {
    expect(() => parseSearchIndexUrl(url, env)).toThrow(why);
    expect(() => parseSearchIndexUrl(url, env)).toThrow(expect.objectContaining({ code: 'FP_USAGE' }));
  });

  it('never echoes the secret of a bad FLEETPROBE_SEARCH_AUTH', () => {
    expect(() => parseSearchIndexUrl('http://127.0.0.1', 'hunter2')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});

/**
 * The client's transport as the sink configures it (PlainMediaTransport): plain JSON media types and no
 * product check, so that OpenSearch (which rejects `compatible-with=9` and sends no `x-elastic-product`)
 * works. These pin the shape of the client internals the sink relies on.
 */
describe('talking to OpenSearch as well as Elasticsearch', () => {
  function openSearchLike(mock: ClientMock, seen: Record<string, unknown>[]) {
    const Base = mock.getConnection() as unknown as new (
      ...a: unknown[]
    ) => {
      request(
        p: { headers: Record<string, unknown> },
        o: unknown,
      ): Promise<{ headers: Record<string, unknown> }>;
    };
    class NoProductHeader extends Base {
      override async request(params: { headers: Record<string, unknown> }, options: unknown) {
        seen.push({ ...params.headers });
        const res = await super.request(params, options);
        delete res.headers['x-elastic-product'];
        return res;
      }
    }
    return NoProductHeader as unknown as Parameters<typeof mockClient>[0];
  }

  it('sends plain application/x-ndjson and accepts an answer without x-elastic-product', async () => {
    const { mock } = bulkMock();
    const headers: Record<string, unknown>[] = [];
    const sink = new SearchIndexSink({
      client: mockClient(openSearchLike(mock, headers)),
      ownsClient: true,
      index: new IndexNamePattern('x'),
    });
    await sink.write({ id: 'a', timestamp: 0, body: {} });
    expect(await sink.close()).toMatchObject({ indexed: 1, failed: 0 });
    expect(headers).toHaveLength(1);
    expect(headers[0]).toMatchObject({ 'content-type': 'application/x-ndjson', accept: 'application/json' });
  });
});
