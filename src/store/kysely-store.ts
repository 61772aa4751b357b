import { type Kysely, type RawBuilder, type Selectable, sql } from 'kysely';
import { reasonOf } from '../engine/reason.js';
import { emptyCounts, type Result, type Status, type StatusCounts } from '../engine/result.js';
import { readRunOptions } from '../engine/run-options.js';
import type { AlertStore } from './alert-store.js';
import {
  afterTargetPort,
  encodeTargetPortCursor,
  intCursor,
  keysetPage,
  targetPortCursor,
} from './cursors.js';
import type { StoreDialect } from './dialect.js';
import { guardStoreOp, redactUrl, StoreError, StoreOpenError, StoreUrlError } from './errors.js';
import { KyselyAlertStore } from './kysely-alert-store.js';
import { KyselyMonitorStore } from './kysely-monitor-store.js';
import { migrate } from './migrations.js';
import type { MonitorStore } from './monitor-store.js';
import { createPostgresDialect } from './postgres/postgres-dialect.js';
import { filterExpression, type ResultFilter } from './result-filter.js';
import type { Database, ResultRow, ResultsTable, RunsTable } from './schema.js';
import { createSqliteDialect } from './sqlite/sqlite-dialect.js';
import { targetKey } from './target-key.js';
import type {
  DiffChange,
  DiffKind,
  DiffSummary,
  MarkInterruptedOptions,
  OpenStoreOptions,
  RunQuery,
  RunRecord,
  RunState,
  Store,
  StoredGroup,
} from './types.js';

/** The SQL condition of each kind of change, over the diff's derived table `d`. */
const DIFF_KIND_CLAUSE: Record<DiffKind, RawBuilder<unknown>> = {
  regressed: sql`(d.from_status = 'pass' AND d.to_status <> 'pass')`,
  recovered: sql`(d.from_status <> 'pass' AND d.to_status = 'pass')`,
  changed: sql`(d.from_status <> 'pass' AND d.to_status <> 'pass')`,
  added: sql`(d.from_status IS NULL)`,
  removed: sql`(d.to_status IS NULL)`,
};

/** Rows deleted per statement by retention, so a big run never holds a long lock. */
const DELETE_CHUNK = 5000;

export async function openKyselyStore(url: string, opts: OpenStoreOptions): Promise<Store> {
  let dialect: StoreDialect;
  if (/^postgres(ql)?:\/\//i.test(url)) {
    dialect = createPostgresDialect(url, opts.log ? { log: opts.log } : {});
  } else {
    const path = url.replace(/^(sqlite|file):(\/\/)?/i, '');
    if (path === '') throw new StoreUrlError(`store URL "${url}" names no file`);
    try {
      dialect = createSqliteDialect(path);
    } catch (err) {
      throw new StoreOpenError(`"${path}"`, err);
    }
  }
  try {
    await migrate(dialect);
  } catch (err) {
    await dialect.close().catch(() => {});
    // The first statement is the migration's: an unreachable database fails here.
    const cause = err instanceof StoreError ? (err.cause ?? err) : err;
    throw new StoreOpenError(`"${redactUrl(url)}"`, cause);
  }
  return new KyselyStore(dialect);
}

const iso = (v: string | Date | null): string | null =>
  v === null ? null : v instanceof Date ? v.toISOString() : v;
const parseJson = (text: string): unknown => (text === '' ? null : JSON.parse(text));

function toRunRecord(r: Selectable<RunsTable>): RunRecord {
  return {
    id: r.id,
    check: r.check,
    args: parseJson(r.args),
    targets: parseJson(r.targets),
    options: readRunOptions(parseJson(r.options)),
    state: r.state as RunState,
    total: r.total === null ? null : Number(r.total),
    counts: {
      pass: Number(r.n_pass),
      fail: Number(r.n_fail),
      error: Number(r.n_error),
      timeout: Number(r.n_timeout),
      cancelled: Number(r.n_cancelled),
    },
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    error: r.error,
    monitor: r.monitor,
    owner: r.owner,
  };
}

function toResult(r: Selectable<ResultsTable>, check: string): Result {
  return {
    run: r.run_id,
    target: r.target,
    port: r.port === 0 ? null : Number(r.port),
    name: r.name,
    labels: JSON.parse(r.labels) as Record<string, string>,
    check,
    status: r.status as Status,
    durationMs: Number(r.duration_ms),
    startedAt: iso(r.started_at)!,
    attempts: Number(r.attempts),
    message: r.message,
    reason: r.reason,
    data: JSON.parse(r.data) as Record<string, unknown>,
  };
}

function toRow(r: Result): ResultRow {
  return {
    run_id: r.run,
    target: r.target,
    port: r.port ?? 0,
    name: r.name,
    labels: JSON.stringify(r.labels ?? {}),
    status: r.status,
    duration_ms: r.durationMs,
    started_at: r.startedAt,
    attempts: r.attempts,
    message: r.message,
    reason: reasonOf(r),
    target_key: targetKey(r.target),
    data: JSON.stringify(r.data ?? {}),
  };
}

/** The one Store implementation: plain kysely queries, the dialect supplying only the differences. */
class KyselyStore implements Store {
  readonly #d: StoreDialect;
  readonly #db: Kysely<Database>;
  #closed = false;
  readonly monitors: MonitorStore;
  readonly alerts: AlertStore;

  constructor(d: StoreDialect) {
    this.#d = d;
    this.#db = d.db;
    this.monitors = new KyselyMonitorStore(d);
    this.alerts = new KyselyAlertStore(d);
  }

  get dialect(): 'sqlite' | 'postgres' {
    return this.#d.name;
  }

  #guard<T>(op: string, fn: () => Promise<T>): Promise<T> {
    return guardStoreOp(op, fn);
  }

  createRun(run: RunRecord): Promise<void> {
    return this.#guard('createRun', async () => {
      await this.#db
        .insertInto('runs')
        .values({
          id: run.id,
          check: run.check,
          args: JSON.stringify(run.args ?? null),
          targets: JSON.stringify(run.targets ?? null),
          options: JSON.stringify(run.options ?? null),
          state: run.state,
          total: run.total,
          n_pass: run.counts.pass,
          n_fail: run.counts.fail,
          n_error: run.counts.error,
          n_timeout: run.counts.timeout,
          n_cancelled: run.counts.cancelled,
          created_at: run.createdAt,
          started_at: run.startedAt,
          finished_at: run.finishedAt,
          error: run.error,
          monitor: run.monitor,
          owner: run.owner,
        })
        .execute();
    });
  }

  updateRun(id: string, patch: Partial<Omit<RunRecord, 'id'>>): Promise<void> {
    return this.#guard('updateRun', async () => {
      const set: Partial<Record<keyof RunsTable, unknown>> = {};
      if (patch.check !== undefined) set.check = patch.check;
      if (patch.args !== undefined) set.args = JSON.stringify(patch.args);
      if (patch.targets !== undefined) set.targets = JSON.stringify(patch.targets);
      if (patch.options !== undefined) set.options = JSON.stringify(patch.options);
      if (patch.state !== undefined) set.state = patch.state;
      if (patch.total !== undefined) set.total = patch.total;
      if (patch.counts !== undefined) {
        set.n_pass = patch.counts.pass;
        set.n_fail = patch.counts.fail;
        set.n_error = patch.counts.error;
        set.n_timeout = patch.counts.timeout;
        set.n_cancelled = patch.counts.cancelled;
      }
      if (patch.createdAt !== undefined) set.created_at = patch.createdAt;
      if (patch.startedAt !== undefined) set.started_at = patch.startedAt;
      if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
      if (patch.error !== undefined) set.error = patch.error;
      if (patch.monitor !== undefined) set.monitor = patch.monitor;
      if (patch.owner !== undefined) set.owner = patch.owner;
      if (Object.keys(set).length === 0) return;
      await this.#db
        .updateTable('runs')
        .set(set as never)
        .where('id', '=', id)
        .execute();
    });
  }

  insertResults(results: readonly Result[]): Promise<StatusCounts> {
    return this.#guard('insertResults', async () => {
      const counts = emptyCounts();
      if (results.length === 0) return counts;
      const inserted = await this.#d.insertResultRows(results.map(toRow));
      for (const s of inserted) if (s in counts) counts[s]++;
      return counts;
    });
  }

  getRun(id: string): Promise<RunRecord | undefined> {
    return this.#guard('getRun', async () => {
      const row = await this.#db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toRunRecord(row) : undefined;
    });
  }

  listRuns(q: RunQuery) {
    return this.#guard('listRuns', async () => {
      const after = intCursor(q.cursor);
      let query = this.#db.selectFrom('runs').selectAll();
      if (q.check !== undefined) query = query.where('check', '=', q.check);
      if (q.state !== undefined) query = query.where('state', '=', q.state);
      if (q.idPrefix !== undefined) {
        const pattern = `${q.idPrefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
        query = query.where(sql<boolean>`${sql.ref('id')} like ${pattern} escape '\\'`);
      }
      if (q.monitor !== undefined) query = query.where('monitor', '=', q.monitor);
      if (after !== undefined) query = query.where('seq', '<', after);
      const rows = await query
        .orderBy('seq', 'desc')
        .limit(q.limit + 1)
        .execute();
      const { page, nextCursor } = keysetPage(rows, q.limit, (last) => String(last.seq));
      return { runs: page.map(toRunRecord), nextCursor };
    });
  }

  listResults(runId: string, q: ResultFilter & { limit: number; cursor?: string | undefined }) {
    return this.#guard('listResults', async () => {
      const after = intCursor(q.cursor);
      const run = await this.#db
        .selectFrom('runs')
        .select('check')
        .where('id', '=', runId)
        .executeTakeFirst();
      let query = this.#db
        .selectFrom('results')
        .selectAll()
        .where('run_id', '=', runId)
        .where((eb) => filterExpression(eb, q, this.#d.likeOperator));
      if (after !== undefined) query = query.where('id', '>', after);
      const rows = await query
        .orderBy('id', 'asc')
        .limit(q.limit + 1)
        .execute();
      const { page, nextCursor } = keysetPage(rows, q.limit, (last) => String(last.id));
      return { results: page.map((r) => toResult(r, run?.check ?? '')), nextCursor };
    });
  }

  diffRuns(
    a: string,
    b: string,
    q: { limit: number; cursor?: string | undefined; change?: DiffKind | undefined },
  ) {
    return this.#guard('diffRuns', async () => {
      const after = targetPortCursor(q.cursor);
      const where = [
        after ? afterTargetPort(after, 'd.k', 'd.port') : undefined,
        q.change ? DIFF_KIND_CLAUSE[q.change] : undefined,
      ].filter((c) => c !== undefined);
      const whereClause = where.length > 0 ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``;
      const { rows } = await sql<{
        target: string;
        k: string;
        port: number | string;
        from_status: string | null;
        to_status: string | null;
        from_message: string | null;
        to_message: string | null;
      }>`
        SELECT d.target, d.k, d.port, d.from_status, d.to_status, d.from_message, d.to_message FROM (
          SELECT ra.target AS target, ra.target_key AS k, ra.port AS port, ra.status AS from_status,
            rb.status AS to_status, ra.message AS from_message, rb.message AS to_message
          FROM results ra
          LEFT JOIN results rb ON rb.run_id = ${b} AND rb.target = ra.target AND rb.port = ra.port
          WHERE ra.run_id = ${a} AND (rb.status IS NULL OR rb.status <> ra.status)
          UNION ALL
          SELECT rb.target AS target, rb.target_key AS k, rb.port AS port, NULL AS from_status,
            rb.status AS to_status, NULL AS from_message, rb.message AS to_message
          FROM results rb
          WHERE rb.run_id = ${b} AND NOT EXISTS (
            SELECT 1 FROM results ra WHERE ra.run_id = ${a} AND ra.target = rb.target AND ra.port = rb.port)
        ) d
        ${whereClause}
        ORDER BY d.k, d.port
        LIMIT ${q.limit + 1}`.execute(this.#db);
      const { page, nextCursor } = keysetPage(rows, q.limit, (last) =>
        encodeTargetPortCursor(last.k, Number(last.port)),
      );
      const changes: DiffChange[] = page.map((r) => ({
        target: r.target,
        port: Number(r.port) === 0 ? null : Number(r.port),
        from: (r.from_status as Status | null) ?? null,
        to: (r.to_status as Status | null) ?? null,
        fromMessage: r.from_message ?? null,
        toMessage: r.to_message ?? null,
      }));
      return { changes, nextCursor };
    });
  }

  diffSummary(a: string, b: string): Promise<DiffSummary> {
    return this.#guard('diffSummary', async () => {
      const { rows } = await sql<{
        both: number | string | null;
        unchanged: number | string | null;
        regressed: number | string | null;
        recovered: number | string | null;
      }>`
        SELECT COUNT(*) AS both,
          SUM(CASE WHEN ra.status = rb.status THEN 1 ELSE 0 END) AS unchanged,
          SUM(CASE WHEN ra.status = 'pass' AND rb.status <> 'pass' THEN 1 ELSE 0 END) AS regressed,
          SUM(CASE WHEN ra.status <> 'pass' AND rb.status = 'pass' THEN 1 ELSE 0 END) AS recovered
        FROM results ra
        JOIN results rb ON rb.run_id = ${b} AND rb.target = ra.target AND rb.port = ra.port
        WHERE ra.run_id = ${a}`.execute(this.#db);
      const r = rows[0];
      const both = Number(r?.both ?? 0);
      const unchanged = Number(r?.unchanged ?? 0);
      const regressed = Number(r?.regressed ?? 0);
      const recovered = Number(r?.recovered ?? 0);
      const total = async (run: string) => {
        const c = await this.#db
          .selectFrom('results')
          .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
          .where('run_id', '=', run)
          .executeTakeFirst();
        return Number(c?.n ?? 0);
      };
      const [totalA, totalB] = [await total(a), await total(b)];
      return {
        regressed,
        recovered,
        changed: both - unchanged - regressed - recovered,
        unchanged,
        added: totalB - both,
        removed: totalA - both,
        totalBefore: totalA,
        totalNow: totalB,
      };
    });
  }

  countMatching(runId: string, filter: ResultFilter): Promise<number> {
    return this.#guard('countMatching', async () => {
      const row = await this.#db
        .selectFrom('results')
        .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
        .where('run_id', '=', runId)
        .where((eb) => filterExpression(eb, filter, this.#d.likeOperator))
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    });
  }

  resultGroups(runId: string, q: { statuses: readonly Status[]; limit: number }) {
    return this.#guard('resultGroups', async () => {
      if (q.statuses.length === 0) return { groups: [], groupCount: 0 };
      const base = this.#db
        .selectFrom('results')
        .where('run_id', '=', runId)
        .where('status', 'in', [...q.statuses]);
      const rows = await base
        .select((eb) => ['status', 'reason', eb.fn.countAll<number | string | bigint>().as('n')])
        .groupBy(['status', 'reason'])
        .orderBy('n', 'desc')
        .orderBy('status')
        .orderBy('reason')
        .limit(q.limit)
        .execute();
      let groupCount = rows.length;
      if (rows.length === q.limit) {
        const c = await this.#db
          .selectFrom(base.select(['status', 'reason']).groupBy(['status', 'reason']).as('g'))
          .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
          .executeTakeFirst();
        groupCount = Number(c?.n ?? 0);
      }
      const groups: StoredGroup[] = rows.map((r) => ({
        status: r.status as Status,
        reason: r.reason,
        count: Number(r.n),
      }));
      return { groups, groupCount };
    });
  }

  groupTargets(
    runId: string,
    status: Status,
    reason: string,
    q: { limit: number; cursor?: string | undefined },
  ) {
    return this.#guard('groupTargets', async () => {
      const after = targetPortCursor(q.cursor);
      let query = this.#db
        .selectFrom('results')
        .select(['target_key', 'port'])
        .where('run_id', '=', runId)
        .where('status', '=', status)
        .where('reason', '=', reason);
      if (after !== undefined) query = query.where(afterTargetPort(after, 'target_key'));
      const rows = await query
        .orderBy('target_key')
        .orderBy('port')
        .limit(q.limit + 1)
        .execute();
      const { page, nextCursor } = keysetPage(rows, q.limit, (last) =>
        encodeTargetPortCursor(last.target_key, Number(last.port)),
      );
      return { keys: page.map((r) => r.target_key), nextCursor };
    });
  }

  groupSample(runId: string, status: Status, reason: string, q: { limit: number }) {
    return this.#guard('groupSample', async () => {
      return this.#db
        .selectFrom('results')
        .select(['target', 'name', 'message'])
        .where('run_id', '=', runId)
        .where('status', '=', status)
        .where('reason', '=', reason)
        .orderBy('target_key')
        .orderBy('port')
        .limit(q.limit)
        .execute();
    });
  }

  previousRun(id: string): Promise<RunRecord | undefined> {
    return this.#guard('previousRun', async () => {
      const run = await this.#db.selectFrom('runs').selectAll().where('id', '=', id).executeTakeFirst();
      if (!run) return undefined;
      // A round of a monitor: its series is the monitor (whose args or inventory may have been edited between
      // rounds): the newest earlier run of it whose results have not been pruned.
      const monitor = run.monitor ?? (await this.#roundMonitor(id));
      if (monitor !== null) {
        const prev = await this.#db
          .selectFrom('runs')
          .selectAll()
          .where((eb) =>
            eb.or([
              eb('monitor', '=', monitor),
              eb(
                'id',
                'in',
                eb
                  .selectFrom('monitor_rounds')
                  .select('run_id')
                  .where('monitor', '=', monitor)
                  .where('pruned', '=', 0),
              ),
            ]),
          )
          .where('seq', '<', run.seq)
          .where('id', 'not in', (eb) =>
            eb
              .selectFrom('monitor_rounds')
              .select('run_id')
              .where('monitor', '=', monitor)
              .where('pruned', '=', 1),
          )
          .orderBy('seq', 'desc')
          .limit(1)
          .executeTakeFirst();
        return prev ? toRunRecord(prev) : undefined;
      }
      // Otherwise: the same check, args and target selection.
      const row = await this.#db
        .selectFrom('runs')
        .selectAll()
        .where('check', '=', run.check)
        .where('args', '=', run.args)
        .where('targets', '=', run.targets)
        .where('seq', '<', run.seq)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? toRunRecord(row) : undefined;
    });
  }

  /** The monitor whose round `runId` is, from the round list (runs stored before they had a monitor column). */
  async #roundMonitor(runId: string): Promise<string | null> {
    const round = await this.#db
      .selectFrom('monitor_rounds')
      .select('monitor')
      .where('run_id', '=', runId)
      .executeTakeFirst();
    return round?.monitor ?? null;
  }

  countResults(runId: string): Promise<StatusCounts> {
    return this.#guard('countResults', async () => {
      const rows = await this.#db
        .selectFrom('results')
        .select(['status', (eb) => eb.fn.countAll<number | string | bigint>().as('n')])
        .where('run_id', '=', runId)
        .groupBy('status')
        .execute();
      const counts = emptyCounts();
      for (const row of rows) if (row.status in counts) counts[row.status as Status] = Number(row.n);
      return counts;
    });
  }

  markInterrupted(opts: MarkInterruptedOptions = {}): Promise<number> {
    return this.#guard('markInterrupted', async () => {
      const now = opts.nowMs ?? Date.now();
      const except = opts.except ?? [];
      let orphans = this.#db
        .selectFrom('runs')
        .select('id')
        .where('state', 'in', ['queued', 'running'])
        .where((eb) =>
          eb.or([
            eb('owner', 'is', null),
            eb.not(
              eb.exists(
                eb
                  .selectFrom('run_owners')
                  .select('run_owners.owner')
                  .whereRef('run_owners.owner', '=', 'runs.owner')
                  .where('run_owners.expires_ms', '>=', now),
              ),
            ),
          ]),
        );
      if (except.length > 0) orphans = orphans.where('id', 'not in', except);
      let marked = 0;
      for (const { id } of await orphans.execute()) {
        // The rows are the truth: counters written by a process that died lag behind what it stored.
        const counts = await this.countResults(id);
        const res = await this.#db
          .updateTable('runs')
          .set({
            state: 'interrupted',
            finished_at: new Date(now).toISOString(),
            n_pass: counts.pass,
            n_fail: counts.fail,
            n_error: counts.error,
            n_timeout: counts.timeout,
            n_cancelled: counts.cancelled,
            error: sql<string>`COALESCE(error, ${'the process running it ended before the run finished'})`,
          })
          .where('id', '=', id)
          .where('state', 'in', ['queued', 'running'])
          .executeTakeFirst();
        marked += Number(res.numUpdatedRows);
      }
      await this.#db.deleteFrom('run_owners').where('expires_ms', '<', now).execute();
      return marked;
    });
  }

  putLease(owner: string, expiresAtMs: number): Promise<void> {
    return this.#guard('putLease', async () => {
      await this.#db
        .insertInto('run_owners')
        .values({ owner, expires_ms: Math.round(expiresAtMs) })
        .onConflict((oc) => oc.column('owner').doUpdateSet({ expires_ms: Math.round(expiresAtMs) }))
        .execute();
    });
  }

  dropLease(owner: string): Promise<void> {
    return this.#guard('dropLease', async () => {
      await this.#db.deleteFrom('run_owners').where('owner', '=', owner).execute();
    });
  }

  getRunCache(runId: string, key: string) {
    return this.#guard('getRunCache', () =>
      this.#db
        .selectFrom('run_cache')
        .select(['fingerprint', 'body'])
        .where('run_id', '=', runId)
        .where('key', '=', key)
        .executeTakeFirst(),
    );
  }

  putRunCache(runId: string, key: string, fingerprint: string, body: string): Promise<void> {
    return this.#guard('putRunCache', async () => {
      await this.#db
        .insertInto('run_cache')
        .values({ run_id: runId, key, fingerprint, body })
        .onConflict((oc) => oc.columns(['run_id', 'key']).doUpdateSet({ fingerprint, body }))
        .execute();
    });
  }

  deleteRunsOlderThan(cutoff: Date): Promise<number> {
    return this.#guard('deleteRunsOlderThan', async () => {
      const old = await this.#db
        .selectFrom('runs')
        .select('id')
        .where('created_at', '<', cutoff.toISOString())
        .where('state', 'not in', ['queued', 'running'])
        .execute();
      let deleted = 0;
      for (const { id } of old) {
        for (;;) {
          const res = await this.#db
            .deleteFrom('results')
            .where('id', 'in', (eb) =>
              eb.selectFrom('results').select('id').where('run_id', '=', id).limit(DELETE_CHUNK),
            )
            .executeTakeFirst();
          if (Number(res.numDeletedRows) === 0) break;
        }
        await this.#db.deleteFrom('run_cache').where('run_id', '=', id).execute();
        const res = await this.#db.deleteFrom('runs').where('id', '=', id).executeTakeFirst();
        deleted += Number(res.numDeletedRows);
      }
      return deleted;
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#d.close();
  }
}
