import { type Kysely, type Selectable, sql } from 'kysely';
import type { Status } from '../engine/result.js';
import { percentileOf } from '../model/latency-histogram.js';
import type { MonitorSpec, TargetState } from '../model/monitor-spec.js';
import {
  afterTargetPort,
  encodeTargetPortCursor,
  intCursor,
  keysetPage,
  targetPortCursor,
} from './cursors.js';
import type { StoreDialect, UpsertSpec } from './dialect.js';
import { guardStoreOp } from './errors.js';
import { ROLLUP_BUCKET_COLUMNS } from './monitor-migration.js';
import type {
  MonitorStore,
  MonitorTargetRecord,
  RollupPoint,
  RollupRecord,
  RoundRecord,
  StoredMonitor,
  TargetHistory,
  TransitionRecord,
} from './monitor-store.js';
import type {
  Database,
  MonitorRollupsTable,
  MonitorRoundsTable,
  MonitorTargetsTable,
  MonitorTransitionsTable,
} from './schema.js';

/** Rows per multi-row statement (deletes, transitions): 300 x 9 parameters stays far below both databases' limits. */
const ROWS_PER_STATEMENT = 300;
/** Rows per bulk upsert call (one transaction; SQLite holds the event loop for it: ~5-10 ms). */
const UPSERT_CHUNK = 2000;

const TARGETS_UPSERT: UpsertSpec = {
  table: 'monitor_targets',
  columns: [
    'monitor',
    'target',
    'port',
    'name',
    'labels',
    'state',
    'machine',
    'streak',
    'since',
    'last_at',
    'last_status',
    'last_run',
  ],
  pgTypes: [
    'text',
    'text',
    'int',
    'text',
    'text',
    'text',
    'bigint',
    'int',
    'timestamptz',
    'timestamptz',
    'text',
    'text',
  ],
  conflict: ['monitor', 'target', 'port'],
  update: ['name', 'labels', 'state', 'machine', 'streak', 'since', 'last_at', 'last_status', 'last_run']
    .map((c) => `${c} = excluded.${c}`)
    .join(', '),
};

const ROLLUPS_UPSERT: UpsertSpec = {
  table: 'monitor_rollups',
  columns: [
    'monitor',
    'target',
    'port',
    'hour',
    'n_pass',
    'n_fail',
    'n_error',
    'n_timeout',
    'lat_n',
    'lat_min',
    'lat_sum',
    'lat_max',
    ...ROLLUP_BUCKET_COLUMNS,
  ],
  pgTypes: [
    'text',
    'text',
    'int',
    'timestamptz',
    'int',
    'int',
    'int',
    'int',
    'int',
    'float8',
    'float8',
    'float8',
    ...ROLLUP_BUCKET_COLUMNS.map(() => 'int'),
  ],
  conflict: ['monitor', 'target', 'port', 'hour'],
  update: [
    ...['n_pass', 'n_fail', 'n_error', 'n_timeout', 'lat_n', 'lat_sum', ...ROLLUP_BUCKET_COLUMNS].map(
      (c) => `${c} = monitor_rollups.${c} + excluded.${c}`,
    ),
    // A NULL on either side (no latency sample) keeps the other: comparisons with NULL are not true.
    'lat_min = CASE WHEN monitor_rollups.lat_min IS NULL OR excluded.lat_min < monitor_rollups.lat_min THEN excluded.lat_min ELSE monitor_rollups.lat_min END',
    'lat_max = CASE WHEN monitor_rollups.lat_max IS NULL OR excluded.lat_max > monitor_rollups.lat_max THEN excluded.lat_max ELSE monitor_rollups.lat_max END',
  ].join(', '),
};
/** Rows deleted per statement by retention, so a big round never holds a long lock. */
const DELETE_CHUNK = 5000;
/** Rows per page when streaming states at start. */
const LOAD_PAGE = 5000;
const DAY_MS = 86_400_000;

const iso = (v: string | Date): string => (v instanceof Date ? v.toISOString() : new Date(v).toISOString());
const isoOrNull = (v: string | Date | null): string | null => (v === null ? null : iso(v));
const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toTargetRecord(r: Selectable<MonitorTargetsTable>): MonitorTargetRecord {
  return {
    monitor: r.monitor,
    target: r.target,
    port: Number(r.port) === 0 ? null : Number(r.port),
    name: r.name,
    labels: JSON.parse(r.labels) as Record<string, string>,
    state: r.state as TargetState,
    machine: Number(r.machine),
    streak: Number(r.streak),
    since: iso(r.since),
    lastAt: isoOrNull(r.last_at),
    lastStatus: (r.last_status as Status | null) ?? null,
    lastRun: r.last_run,
  };
}

function toTransition(r: Selectable<MonitorTransitionsTable>): TransitionRecord {
  return {
    id: String(r.id),
    monitor: r.monitor,
    target: r.target,
    port: Number(r.port) === 0 ? null : Number(r.port),
    at: iso(r.at),
    from: r.from_state as TargetState,
    to: r.to_state as TargetState,
    run: r.run_id,
    status: r.status as Status,
    message: r.message,
  };
}

function toRound(r: Selectable<MonitorRoundsTable>): RoundRecord {
  return {
    monitor: r.monitor,
    seq: Number(r.seq),
    runId: r.run_id,
    state: r.state,
    startedAt: iso(r.started_at),
    finishedAt: isoOrNull(r.finished_at),
    skipped: Number(r.skipped),
  };
}

function toPoint(r: Selectable<MonitorRollupsTable>): RollupPoint {
  const latN = Number(r.lat_n);
  const min = num(r.lat_min);
  const max = num(r.lat_max);
  return {
    hour: iso(r.hour),
    pass: Number(r.n_pass),
    fail: Number(r.n_fail),
    error: Number(r.n_error),
    timeout: Number(r.n_timeout),
    latMinMs: min,
    latMeanMs: latN === 0 ? null : Number(r.lat_sum) / latN,
    latP95Ms: percentileOf(
      ROLLUP_BUCKET_COLUMNS.map((b) => Number(r[b])),
      0.95,
      min,
      max,
    ),
    latMaxMs: max,
  };
}

/**
 * Merges deltas for the same (monitor, target, port, hour): PostgreSQL refuses an upsert that touches one row
 * twice in a statement.
 */
function mergeRollups(rows: readonly RollupRecord[]): RollupRecord[] {
  const byKey = new Map<string, RollupRecord>();
  const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
  const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
  for (const r of rows) {
    const key = `${r.monitor}|${r.target}|${r.port ?? 0}|${r.hour}`;
    const prev = byKey.get(key);
    byKey.set(
      key,
      prev === undefined
        ? r
        : {
            ...prev,
            pass: prev.pass + r.pass,
            fail: prev.fail + r.fail,
            error: prev.error + r.error,
            timeout: prev.timeout + r.timeout,
            latN: prev.latN + r.latN,
            latMinMs: minOf(prev.latMinMs, r.latMinMs),
            latSumMs: prev.latSumMs + r.latSumMs,
            latMaxMs: maxOf(prev.latMaxMs, r.latMaxMs),
            buckets: prev.buckets.map((c, i) => c + (r.buckets[i] ?? 0)),
          },
    );
  }
  return [...byKey.values()];
}

/** Keeps the last row per (monitor, target, port), for the same reason as `mergeRollups`. */
function lastPerTarget(rows: readonly MonitorTargetRecord[]): readonly MonitorTargetRecord[] {
  const byKey = new Map<string, MonitorTargetRecord>();
  for (const r of rows) byKey.set(`${r.monitor}|${r.target}|${r.port ?? 0}`, r);
  return byKey.size === rows.length ? rows : [...byKey.values()];
}

function chunks<T>(rows: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** The MonitorStore over a store dialect: plain kysely, with the one JSON difference (label filters) inline. */
export class KyselyMonitorStore implements MonitorStore {
  readonly #d: StoreDialect;
  readonly #db: Kysely<Database>;

  constructor(d: StoreDialect) {
    this.#d = d;
    this.#db = d.db;
  }

  saveMonitor(spec: MonitorSpec): Promise<void> {
    return guardStoreOp('saveMonitor', async () => {
      const now = new Date().toISOString();
      await this.#db
        .insertInto('monitors')
        .values({
          name: spec.name,
          spec: JSON.stringify(spec),
          paused: spec.paused ? 1 : 0,
          created_at: now,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.column('name').doUpdateSet((eb) => ({
            spec: eb.ref('excluded.spec'),
            paused: eb.ref('excluded.paused'),
            updated_at: eb.ref('excluded.updated_at'),
          })),
        )
        .execute();
    });
  }

  listMonitors(): Promise<StoredMonitor[]> {
    return guardStoreOp('listMonitors', async () => {
      const rows = await this.#db.selectFrom('monitors').selectAll().orderBy('name').execute();
      return rows.map((r) => this.#toMonitor(r));
    });
  }

  getMonitor(name: string): Promise<StoredMonitor | undefined> {
    return guardStoreOp('getMonitor', async () => {
      const r = await this.#db.selectFrom('monitors').selectAll().where('name', '=', name).executeTakeFirst();
      return r ? this.#toMonitor(r) : undefined;
    });
  }

  #toMonitor(r: Selectable<Database['monitors']>): StoredMonitor {
    const paused = Number(r.paused) === 1;
    return {
      spec: { ...(JSON.parse(r.spec) as MonitorSpec), paused },
      paused,
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
    };
  }

  setMonitorPaused(name: string, paused: boolean): Promise<boolean> {
    return guardStoreOp('setMonitorPaused', async () => {
      const res = await this.#db
        .updateTable('monitors')
        .set({ paused: paused ? 1 : 0, updated_at: new Date().toISOString() })
        .where('name', '=', name)
        .executeTakeFirst();
      return Number(res.numUpdatedRows) > 0;
    });
  }

  deleteMonitor(name: string): Promise<boolean> {
    return guardStoreOp('deleteMonitor', async () => {
      const res = await this.#db.deleteFrom('monitors').where('name', '=', name).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    });
  }

  deleteMonitorData(monitor: string): Promise<void> {
    return guardStoreOp('deleteMonitorData', async () => {
      for (const table of [
        'monitor_targets',
        'monitor_transitions',
        'monitor_rollups',
        'monitor_rounds',
      ] as const) {
        await this.#db.deleteFrom(table).where('monitor', '=', monitor).execute();
      }
    });
  }

  async *loadTargetStates(monitor: string): AsyncGenerator<MonitorTargetRecord, void, undefined> {
    let cursor: string | undefined;
    for (;;) {
      const page = await this.listTargets(monitor, { limit: LOAD_PAGE, ...(cursor ? { cursor } : {}) });
      yield* page.targets;
      if (page.nextCursor === null) return;
      cursor = page.nextCursor;
    }
  }

  upsertTargetStates(rows: readonly MonitorTargetRecord[]): Promise<void> {
    return guardStoreOp('upsertTargetStates', async () => {
      const values = lastPerTarget(rows).map((r) => [
        r.monitor,
        r.target,
        r.port ?? 0,
        r.name,
        JSON.stringify(r.labels),
        r.state,
        r.machine,
        r.streak,
        r.since,
        r.lastAt,
        r.lastStatus,
        r.lastRun,
      ]);
      for (const chunk of chunks(values, UPSERT_CHUNK)) await this.#d.upsertRows(TARGETS_UPSERT, chunk);
    });
  }

  deleteTargetStates(
    monitor: string,
    keys: readonly { target: string; port: number | null }[],
  ): Promise<void> {
    return guardStoreOp('deleteTargetStates', async () => {
      for (const chunk of chunks(keys)) {
        await this.#db
          .deleteFrom('monitor_targets')
          .where('monitor', '=', monitor)
          .where((eb) =>
            eb.or(chunk.map((k) => eb.and([eb('target', '=', k.target), eb('port', '=', k.port ?? 0)]))),
          )
          .execute();
      }
    });
  }

  insertTransitions(rows: readonly TransitionRecord[]): Promise<void> {
    return guardStoreOp('insertTransitions', async () => {
      for (const chunk of chunks(rows)) {
        await this.#db
          .insertInto('monitor_transitions')
          .values(
            chunk.map((r) => ({
              monitor: r.monitor,
              target: r.target,
              port: r.port ?? 0,
              at: r.at,
              from_state: r.from,
              to_state: r.to,
              run_id: r.run,
              status: r.status,
              message: r.message,
            })),
          )
          .execute();
      }
    });
  }

  addRollups(rows: readonly RollupRecord[]): Promise<void> {
    return guardStoreOp('addRollups', async () => {
      const values = mergeRollups(rows).map((r) => [
        r.monitor,
        r.target,
        r.port ?? 0,
        r.hour,
        r.pass,
        r.fail,
        r.error,
        r.timeout,
        r.latN,
        r.latMinMs,
        r.latSumMs,
        r.latMaxMs,
        ...ROLLUP_BUCKET_COLUMNS.map((_, i) => r.buckets[i] ?? 0),
      ]);
      for (const chunk of chunks(values, UPSERT_CHUNK)) await this.#d.upsertRows(ROLLUPS_UPSERT, chunk);
    });
  }

  saveRound(round: RoundRecord): Promise<void> {
    return guardStoreOp('saveRound', async () => {
      await this.#db
        .insertInto('monitor_rounds')
        .values({
          monitor: round.monitor,
          seq: round.seq,
          run_id: round.runId,
          state: round.state,
          started_at: round.startedAt,
          finished_at: round.finishedAt,
          skipped: round.skipped,
          pruned: 0,
        })
        .onConflict((oc) =>
          oc.columns(['monitor', 'seq']).doUpdateSet((eb) => ({
            run_id: eb.ref('excluded.run_id'),
            state: eb.ref('excluded.state'),
            started_at: eb.ref('excluded.started_at'),
            finished_at: eb.ref('excluded.finished_at'),
            skipped: eb.ref('excluded.skipped'),
          })),
        )
        .execute();
    });
  }

  lastRound(monitor: string): Promise<RoundRecord | undefined> {
    return guardStoreOp('lastRound', async () => {
      const r = await this.#db
        .selectFrom('monitor_rounds')
        .selectAll()
        .where('monitor', '=', monitor)
        .orderBy('seq', 'desc')
        .limit(1)
        .executeTakeFirst();
      return r ? toRound(r) : undefined;
    });
  }

  pruneRoundResults(monitor: string, keepRounds: number): Promise<number> {
    return guardStoreOp('pruneRoundResults', async () => {
      const keep = await this.#db
        .selectFrom('monitor_rounds')
        .select('seq')
        .where('monitor', '=', monitor)
        .orderBy('seq', 'desc')
        .limit(1)
        .offset(Math.max(0, keepRounds))
        .executeTakeFirst();
      if (!keep) return 0;
      const old = await this.#db
        .selectFrom('monitor_rounds')
        .select(['seq', 'run_id'])
        .where('monitor', '=', monitor)
        .where('seq', '<=', Number(keep.seq))
        .where('pruned', '=', 0)
        .where('state', '<>', 'running')
        .execute();
      for (const round of old) {
        for (;;) {
          const res = await this.#db
            .deleteFrom('results')
            .where('id', 'in', (eb) =>
              eb.selectFrom('results').select('id').where('run_id', '=', round.run_id).limit(DELETE_CHUNK),
            )
            .executeTakeFirst();
          if (Number(res.numDeletedRows) === 0) break;
        }
        await this.#db.deleteFrom('run_cache').where('run_id', '=', round.run_id).execute();
        await this.#db
          .updateTable('monitor_rounds')
          .set({ pruned: 1 })
          .where('monitor', '=', monitor)
          .where('seq', '=', round.seq)
          .execute();
      }
      return old.length;
    });
  }

  pruneHistory(q: {
    transitionsBefore: Date;
    rollupsBefore: Date;
  }): Promise<{ transitions: number; rollups: number }> {
    return guardStoreOp('pruneHistory', async () => {
      const t = await this.#db
        .deleteFrom('monitor_transitions')
        .where('at', '<', q.transitionsBefore.toISOString())
        .executeTakeFirst();
      const r = await this.#db
        .deleteFrom('monitor_rollups')
        .where('hour', '<', q.rollupsBefore.toISOString())
        .executeTakeFirst();
      await this.#db
        .deleteFrom('monitor_rounds')
        .where('pruned', '=', 1)
        .where('started_at', '<', q.transitionsBefore.toISOString())
        .execute();
      return { transitions: Number(t.numDeletedRows), rollups: Number(r.numDeletedRows) };
    });
  }

  listTargets(
    monitor: string,
    q: { state?: TargetState; labels?: Readonly<Record<string, string>>; limit: number; cursor?: string },
  ): Promise<{ targets: MonitorTargetRecord[]; nextCursor: string | null }> {
    return guardStoreOp('listTargets', async () => {
      const after = targetPortCursor(q.cursor);
      let query = this.#db.selectFrom('monitor_targets').selectAll().where('monitor', '=', monitor);
      if (q.state !== undefined) query = query.where('state', '=', q.state);
      for (const [key, value] of Object.entries(q.labels ?? {})) {
        query = query.where(
          this.#d.name === 'postgres'
            ? sql<string>`(labels::jsonb ->> ${key})`
            : sql<string>`json_extract(labels, ${`$."${key.replaceAll('"', '')}"`})`,
          '=',
          value,
        );
      }
      if (after) query = query.where(afterTargetPort(after, 'target'));
      const rows = await query
        .orderBy('target')
        .orderBy('port')
        .limit(q.limit + 1)
        .execute();
      const { page, nextCursor } = keysetPage(rows, q.limit, (last) =>
        encodeTargetPortCursor(last.target, Number(last.port)),
      );
      return { targets: page.map(toTargetRecord), nextCursor };
    });
  }

  listTransitions(
    monitor: string,
    q: { since?: Date; limit: number; cursor?: string },
  ): Promise<{ transitions: TransitionRecord[]; nextCursor: string | null }> {
    return guardStoreOp('listTransitions', async () => {
      const after = intCursor(q.cursor);
      let query = this.#db.selectFrom('monitor_transitions').selectAll().where('monitor', '=', monitor);
      if (q.since !== undefined) query = query.where('at', '>=', q.since.toISOString());
      if (after !== undefined) query = query.where('id', '>', after);
      const rows = await query
        .orderBy('id')
        .limit(q.limit + 1)
        .execute();
      const { page, nextCursor } = keysetPage(rows, q.limit, (last) => String(last.id));
      return { transitions: page.map(toTransition), nextCursor };
    });
  }

  targetHistory(
    monitor: string,
    target: string,
    q: { port?: number | null; now?: Date; seriesSince?: Date; transitionsLimit?: number } = {},
  ): Promise<TargetHistory> {
    return guardStoreOp('targetHistory', async () => {
      const nowMs = (q.now ?? new Date()).getTime();
      const port = q.port === undefined ? undefined : (q.port ?? 0);
      let states = this.#db
        .selectFrom('monitor_targets')
        .selectAll()
        .where('monitor', '=', monitor)
        .where('target', '=', target);
      let transitions = this.#db
        .selectFrom('monitor_transitions')
        .selectAll()
        .where('monitor', '=', monitor)
        .where('target', '=', target);
      let rollups = this.#db
        .selectFrom('monitor_rollups')
        .where('monitor', '=', monitor)
        .where('target', '=', target);
      if (port !== undefined) {
        states = states.where('port', '=', port);
        transitions = transitions.where('port', '=', port);
        rollups = rollups.where('port', '=', port);
      }
      const uptimeSince = async (ms: number): Promise<number | null> => {
        const r = await rollups
          .select(sql<number | string | null>`SUM(n_pass)`.as('pass'))
          .select(sql<number | string | null>`SUM(n_pass + n_fail + n_error + n_timeout)`.as('total'))
          .where('hour', '>=', new Date(Math.floor((nowMs - ms) / 3_600_000) * 3_600_000).toISOString())
          .where('hour', '<=', new Date(nowMs).toISOString())
          .executeTakeFirst();
        const total = Number(r?.total ?? 0);
        return total === 0 ? null : Number(r?.pass ?? 0) / total;
      };
      const seriesSince = q.seriesSince ?? new Date(nowMs - DAY_MS);
      const [stateRows, transitionRows, h24, d7, d30, series] = await Promise.all([
        states.orderBy('port').execute(),
        transitions
          .orderBy('at', 'desc')
          .orderBy('id', 'desc')
          .limit(q.transitionsLimit ?? 100)
          .execute(),
        uptimeSince(DAY_MS),
        uptimeSince(7 * DAY_MS),
        uptimeSince(30 * DAY_MS),
        rollups
          .selectAll()
          .where('hour', '>=', seriesSince.toISOString())
          .orderBy('hour')
          .orderBy('port')
          .execute(),
      ]);
      return {
        states: stateRows.map(toTargetRecord),
        transitions: transitionRows.map(toTransition),
        uptime: { h24, d7, d30 },
        latency: series.map(toPoint),
      };
    });
  }
}
