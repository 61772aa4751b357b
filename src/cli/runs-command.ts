import type { Command } from 'commander';
import { request } from 'undici';
import { FleetprobeError, UsageError } from '../core/errors.js';
import { type Result, STATUSES, type Status } from '../engine/result.js';
import {
  type DiffChange,
  openStore,
  RUN_STATES,
  type RunQuery,
  type RunRecord,
  type Store,
} from '../store/index.js';
import { parseIntOption } from './parse-options.js';

interface RunsFlags {
  server?: string;
  token?: string;
  db?: string;
  output?: 'jsonl' | 'table';
}

type Page<K extends string, T> = { [P in K]: T[] } & { nextCursor: string | null };

/** What `fleetprobe runs` reads from: a server's API or a store directly. */
interface RunsSource {
  listRuns(q: RunQuery): Promise<Page<'runs', RunRecord>>;
  getRun(id: string): Promise<RunRecord | undefined>;
  listResults(
    id: string,
    q: { status?: Status; target?: string; limit: number; cursor?: string },
  ): Promise<Page<'results', Result>>;
  diffRuns(a: string, b: string, q: { limit: number; cursor?: string }): Promise<Page<'changes', DiffChange>>;
  cancel(id: string): Promise<RunRecord | undefined>;
  close(): Promise<void>;
}

/** The API is unreachable or answered 5xx. Code `FP_API_UNAVAILABLE`. */
export class ApiUnavailableError extends FleetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FP_API_UNAVAILABLE', message, options);
  }
}

function apiSource(base: string, token: string | undefined): RunsSource {
  const root = base.replace(/\/+$/, '');
  const call = async <T>(
    method: 'GET' | 'POST',
    path: string,
    query: Record<string, unknown> = {},
  ): Promise<T | undefined> => {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
    const url = `${root}${path}${qs.size ? `?${qs}` : ''}`;
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(url, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
    } catch (err) {
      throw new ApiUnavailableError(`cannot reach ${root}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.body.text();
    let body: { message?: string } | undefined;
    try {
      body = JSON.parse(text) as { message?: string };
    } catch {
      body = undefined;
    }
    if (res.statusCode === 404 && path.startsWith('/api/v1/runs/')) return undefined;
    if (res.statusCode >= 400 && res.statusCode < 500) {
      throw new UsageError(`${method} ${path}: ${res.statusCode} ${body?.message ?? text.slice(0, 200)}`);
    }
    if (res.statusCode >= 500)
      throw new ApiUnavailableError(`${method} ${path}: ${res.statusCode} ${body?.message ?? ''}`);
    return body as T;
  };
  const must = <T>(v: T | undefined, what: string): T => {
    if (v === undefined) throw new UsageError(`${what} does not exist`);
    return v;
  };
  return {
    listRuns: async (q) => must(await call<Page<'runs', RunRecord>>('GET', '/api/v1/runs', q), 'runs'),
    getRun: (id) => call<RunRecord>('GET', `/api/v1/runs/${encodeURIComponent(id)}`),
    listResults: async (id, q) =>
      must(
        await call<Page<'results', Result>>('GET', `/api/v1/runs/${encodeURIComponent(id)}/results`, q),
        `run "${id}"`,
      ),
    diffRuns: async (a, b, q) =>
      must(
        await call<Page<'changes', DiffChange>>(
          'GET',
          `/api/v1/runs/${encodeURIComponent(a)}/diff/${encodeURIComponent(b)}`,
          q,
        ),
        `run "${a}" or "${b}"`,
      ),
    cancel: (id) => call<RunRecord>('POST', `/api/v1/runs/${encodeURIComponent(id)}/cancel`),
    close: async () => {},
  };
}

function storeSource(store: Store): RunsSource {
  return {
    // Reading the store settles it first: runs whose owner's lease expired become `interrupted`.
    listRuns: async (q) => {
      if (q.cursor === undefined) await store.markInterrupted();
      return store.listRuns(q);
    },
    getRun: async (id) => {
      await store.markInterrupted();
      return store.getRun(id);
    },
    listResults: async (id, q) => {
      if (!(await store.getRun(id))) throw new UsageError(`run "${id}" does not exist`);
      return store.listResults(id, q);
    },
    diffRuns: async (a, b, q) => {
      for (const id of [a, b])
        if (!(await store.getRun(id))) throw new UsageError(`run "${id}" does not exist`);
      return store.diffRuns(a, b, q);
    },
    cancel: async () => {
      throw new UsageError('runs cancel needs --server: a run is cancelled by the process running it');
    },
    close: () => store.close(),
  };
}

/** Longest id prefix accepted; run ids are UUIDs (36 characters). */
const MAX_ID_PREFIX = 64;

/**
 * The full id of the run `given` names: the id itself, or a unique prefix of one (the dashboard shows the
 * first 8 characters). Throws `UsageError` (exit 2, one line) when no run matches or the prefix is
 * ambiguous, naming a few candidates.
 */
export async function resolveRunId(src: RunsSource, given: string): Promise<string> {
  if (await src.getRun(given)) return given;
  if (!/^[A-Za-z0-9-]+$/.test(given) || given.length > MAX_ID_PREFIX) {
    throw new UsageError(`run "${given}" does not exist`);
  }
  const { runs } = await src.listRuns({ idPrefix: given, limit: 3 });
  if (runs.length === 0) throw new UsageError(`run "${given}" does not exist (no run id starts with it)`);
  if (runs.length > 1) {
    const some = runs
      .slice(0, 2)
      .map((r) => r.id)
      .join(', ');
    throw new UsageError(
      `run id prefix "${given}" is ambiguous: ${some}${runs.length > 2 ? ', ...' : ''} match; give more characters`,
    );
  }
  return runs[0]!.id;
}

async function openSource(flags: RunsFlags): Promise<RunsSource> {
  if (flags.server && flags.db) throw new UsageError('give --server or --db, not both');
  if (flags.db) return storeSource(await openStore(flags.db));
  const server = flags.server ?? process.env.FLEETPROBE_SERVER;
  if (!server) throw new UsageError('runs: give --server <url> (or FLEETPROBE_SERVER) or --db <url>');
  return apiSource(server, flags.token ?? process.env.FLEETPROBE_TOKEN);
}

/** Writes rows as JSON lines, or as an aligned table (the columns given) on a TTY. */
class RowWriter {
  readonly #table: boolean;
  readonly #columns: [string, (row: never) => unknown][];
  #rows: string[][] = [];
  constructor(table: boolean, columns: [string, (row: never) => unknown][]) {
    this.#table = table;
    this.#columns = columns;
  }
  write(row: unknown): void {
    if (!this.#table) {
      process.stdout.write(`${JSON.stringify(row)}\n`);
      return;
    }
    this.#rows.push(this.#columns.map(([, get]) => String(get(row as never) ?? '-')));
    if (this.#rows.length >= 1000) this.flush();
  }
  flush(): void {
    if (!this.#table || this.#rows.length === 0) return;
    const all = [this.#columns.map(([h]) => h), ...this.#rows];
    const widths = this.#columns.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
    const lines = all.map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    this.#rows = [];
  }
}

const RUN_COLUMNS: [string, (r: RunRecord) => unknown][] = [
  ['ID', (r) => r.id],
  ['CHECK', (r) => r.check],
  ['STATE', (r) => r.state],
  ['TOTAL', (r) => r.total],
  ...STATUSES.map((s): [string, (r: RunRecord) => unknown] => [s.toUpperCase(), (r) => r.counts[s]]),
  ['CREATED', (r) => r.createdAt],
];
const RESULT_COLUMNS: [string, (r: Result) => unknown][] = [
  ['TARGET', (r) => r.target],
  ['PORT', (r) => r.port],
  ['STATUS', (r) => r.status],
  ['MS', (r) => r.durationMs],
  ['MESSAGE', (r) => r.message],
];
const DIFF_COLUMNS: [string, (r: DiffChange) => unknown][] = [
  ['TARGET', (r) => r.target],
  ['PORT', (r) => r.port],
  ['FROM', (r) => r.from],
  ['TO', (r) => r.to],
];

/**
 * `fleetprobe runs list|show|results|cancel|diff`: stored runs, through a server's API (`--server`, with
 * `--token` or FLEETPROBE_TOKEN) or straight from a store (`--db`). Output: a table on a TTY, JSON lines
 * otherwise (`-o` to choose). `results` and `diff` follow the cursor through every page (`--limit` caps).
 * A run is named by its id or a unique prefix of it (the dashboard shows 8 characters).
 */
export function runsCommand(program: Command): void {
  const runs = program
    .command('runs')
    .description('list, show, page through, cancel and compare stored runs')
    .option('--server <url>', 'a fleetprobe server, e.g. http://127.0.0.1:7070 (env FLEETPROBE_SERVER)')
    .option('--token <token>', 'API token (env FLEETPROBE_TOKEN)')
    .option('--db <url>', 'read a store directly: a SQLite path or postgres:// URL')
    .option('-o, --output <format>', 'jsonl | table (default: table on a TTY, else jsonl)');

  const withSource = async (fn: (src: RunsSource, table: boolean) => Promise<void>) => {
    const flags = runs.opts<RunsFlags>();
    if (flags.output && flags.output !== 'jsonl' && flags.output !== 'table') {
      throw new UsageError(`--output: "${flags.output}" is not jsonl or table`);
    }
    const table = flags.output ? flags.output === 'table' : process.stdout.isTTY === true;
    const src = await openSource(flags);
    try {
      await fn(src, table);
    } finally {
      await src.close();
    }
  };

  runs
    .command('list')
    .description('runs, newest first')
    .option('--check <name>', 'only runs of this check')
    .option('--state <state>', `only runs in this state (${RUN_STATES.join(', ')})`)
    .option('--monitor <name>', 'only the rounds of this monitor')
    .option('--limit <n>', 'most runs shown', '50')
    .action(async (o: { check?: string; state?: string; monitor?: string; limit: string }) => {
      if (o.state && !(RUN_STATES as readonly string[]).includes(o.state)) {
        throw new UsageError(`--state: "${o.state}" is not one of ${RUN_STATES.join(', ')}`);
      }
      const limit = parseIntOption(o.limit, '--limit', 1, 1_000_000);
      await withSource(async (src, table) => {
        const out = new RowWriter(table, RUN_COLUMNS as [string, (row: never) => unknown][]);
        let left = limit;
        let cursor: string | undefined;
        do {
          const page = await src.listRuns({
            limit: Math.min(left, 1000),
            ...(o.check ? { check: o.check } : {}),
            ...(o.state ? { state: o.state } : {}),
            ...(o.monitor ? { monitor: o.monitor } : {}),
            ...(cursor ? { cursor } : {}),
          });
          for (const r of page.runs) out.write(r);
          left -= page.runs.length;
          cursor = page.nextCursor ?? undefined;
        } while (cursor && left > 0);
        out.flush();
      });
    });

  runs
    .command('show <id>')
    .description('one run: state, counters, times (id: the full id or a unique prefix)')
    .action(async (given: string) => {
      await withSource(async (src, table) => {
        const id = await resolveRunId(src, given);
        const run = await src.getRun(id);
        if (!run) throw new UsageError(`run "${id}" does not exist`);
        process.stdout.write(table ? `${JSON.stringify(run, null, 2)}\n` : `${JSON.stringify(run)}\n`);
      });
    });

  runs
    .command('results <id>')
    .description("a run's results, in completion order")
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
    .option('--target <address>', 'only this target')
    .option('--limit <n>', 'most results shown (default: all)')
    .action(async (given: string, o: { status?: string; target?: string; limit?: string }) => {
      if (o.status && !(STATUSES as readonly string[]).includes(o.status)) {
        throw new UsageError(`--status: "${o.status}" is not one of ${STATUSES.join(', ')}`);
      }
      let left = o.limit ? parseIntOption(o.limit, '--limit', 1) : Number.POSITIVE_INFINITY;
      await withSource(async (src, table) => {
        const id = await resolveRunId(src, given);
        const out = new RowWriter(table, RESULT_COLUMNS as [string, (row: never) => unknown][]);
        let cursor: string | undefined;
        do {
          const page = await src.listResults(id, {
            limit: Math.min(left, 1000),
            ...(o.status ? { status: o.status as Status } : {}),
            ...(o.target ? { target: o.target } : {}),
            ...(cursor ? { cursor } : {}),
          });
          for (const r of page.results) out.write(r);
          left -= page.results.length;
          cursor = page.nextCursor ?? undefined;
        } while (cursor && left > 0);
        out.flush();
      });
    });

  runs
    .command('cancel <id>')
    .description('cancel a queued or running run (needs --server and an operate token)')
    .action(async (given: string) => {
      await withSource(async (src) => {
        const run = await src.cancel(await resolveRunId(src, given));
        if (!run) throw new UsageError(`run "${given}" does not exist`);
        process.stdout.write(`${JSON.stringify({ id: run.id, state: run.state, counts: run.counts })}\n`);
      });
    });

  runs
    .command('diff <a> <b>')
    .description('targets whose status changed from run a to run b')
    .action(async (givenA: string, givenB: string) => {
      await withSource(async (src, table) => {
        const a = await resolveRunId(src, givenA);
        const b = await resolveRunId(src, givenB);
        const out = new RowWriter(table, DIFF_COLUMNS as [string, (row: never) => unknown][]);
        let cursor: string | undefined;
        do {
          const page = await src.diffRuns(a, b, { limit: 1000, ...(cursor ? { cursor } : {}) });
          for (const c of page.changes) out.write(c);
          cursor = page.nextCursor ?? undefined;
        } while (cursor);
        out.flush();
      });
    });
}
