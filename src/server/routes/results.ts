import { Readable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { STATUSES } from '../../engine/result.js';
import { csvFormat, jsonlFormat, type ResultFormat } from '../../sinks/formats.js';
import { loadFailureGroups } from '../../store/failure-groups.js';
import { ipv4Cidr, type ResultFilter } from '../../store/result-filter.js';
import { cachedForFinishedRun, runCacheKey } from '../../store/run-cache.js';
import type { Store } from '../../store/store.js';
import { ApiError } from '../errors.js';
import type { RunManager } from '../run-manager.js';
import {
  exportResultsQuery,
  groupsQuery,
  listResultsQuery,
  runIdParams,
  splitLabelParams,
} from '../schemas.js';
import { parseOr400 } from '../validate.js';

export interface ResultsRoutesOptions {
  manager: RunManager;
  /** Results read from the store per page while exporting (default 1000). */
  exportPageSize?: number;
}

const EXPORTS: Record<'jsonl' | 'csv', { type: string; format: ResultFormat }> = {
  jsonl: { type: 'application/x-ndjson; charset=utf-8', format: jsonlFormat },
  csv: { type: 'text/csv; charset=utf-8', format: csvFormat },
};

/** The filter of a results query: the zod-validated fields plus the `label.<key>` parameters. */
function filterOf(q: Omit<ResultFilter, 'labels'>, labels: Record<string, string>): ResultFilter {
  const f: ResultFilter = { ...q };
  if (Object.keys(labels).length > 0) f.labels = labels;
  return f;
}

/**
 * Streams a run's matching results in a format, reading the store in keyset pages: the next page is read
 * only when the consumer (the socket, through Readable.from) asks for more, so memory stays one page whatever
 * the run's size, and a client that goes away stops the reading.
 */
export async function* exportLines(
  store: Store,
  runId: string,
  filter: ResultFilter,
  format: ResultFormat,
  pageSize: number,
): AsyncGenerator<string> {
  if (format.header) yield format.header();
  let cursor: string | undefined;
  do {
    const page = await store.listResults(runId, { ...filter, limit: pageSize, cursor });
    if (page.results.length > 0) yield page.results.map((r) => format.line(r)).join('');
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}

/** /api/v1/runs/:id/results (filtered keyset pages with a total), .../results.jsonl|.csv (export), .../groups. */
export const resultsRoutes: FastifyPluginAsync<ResultsRoutesOptions> = async (app, opts) => {
  const { manager } = opts;
  const store = manager.store;
  const pageSize = opts.exportPageSize ?? 1000;

  const mustGet = async (id: string) => {
    const run = await manager.get(id);
    if (!run) throw new ApiError('not_found', `run "${id}" does not exist`);
    return run;
  };

  app.get('/runs/:id/results', { config: { role: 'read' } }, async (req) => {
    const { id } = parseOr400(runIdParams, req.params, 'params');
    const { labels, rest } = splitLabelParams(req.query);
    const { limit, cursor, total, ...fields } = parseOr400(listResultsQuery, rest, 'query');
    const run = await mustGet(id);
    const filter = filterOf(fields, labels);
    const page = await store.listResults(id, { ...filter, limit, cursor });
    if (total !== 'true') return page;
    const count = () => store.countMatching(id, filter);
    return { ...page, total: await cachedForFinishedRun(store, run, runCacheKey('total', filter), count) };
  });

  for (const ext of ['jsonl', 'csv'] as const) {
    app.get(`/runs/:id/results.${ext}`, { config: { role: 'read' } }, async (req, reply) => {
      const { id } = parseOr400(runIdParams, req.params, 'params');
      const { labels, rest } = splitLabelParams(req.query);
      const fields = parseOr400(exportResultsQuery, rest, 'query');
      await mustGet(id);
      const filter = filterOf(fields, labels);
      // A bad filter must fail as a 400 before the 200 and the first bytes are sent.
      if (filter.address !== undefined) ipv4Cidr(filter.address);
      const body = Readable.from(exportLines(store, id, filter, EXPORTS[ext].format, pageSize), {
        objectMode: false,
      });
      body.on('error', (err) => req.log.error({ err, run: id }, 'results export failed'));
      return reply
        .type(EXPORTS[ext].type)
        .header('content-disposition', `attachment; filename="fleetprobe-${id.slice(0, 8)}.${ext}"`)
        .header('cache-control', 'no-store')
        .send(body);
    });
  }

  app.get('/runs/:id/groups', { config: { role: 'read' } }, async (req) => {
    const { id } = parseOr400(runIdParams, req.params, 'params');
    const q = parseOr400(groupsQuery, req.query, 'query');
    const run = await mustGet(id);
    const statuses = q.status ? [q.status] : STATUSES.filter((s) => s !== 'pass');
    const load = () => loadFailureGroups(store, id, { statuses, limit: q.limit, signal: req.signal });
    const { groups, groupCount } = await cachedForFinishedRun(
      store,
      run,
      runCacheKey('groups', [statuses, q.limit]),
      load,
    );
    return { groups, groupCount };
  });
};
