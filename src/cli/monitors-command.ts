import type { Command } from 'commander';
import { request } from 'undici';
import { createBuiltinRegistry } from '../checks/builtins.js';
import { validateCheckArgs } from '../checks/validate-args.js';
import { UsageError } from '../core/errors.js';
import { TARGET_STATES, type TargetState } from '../model/monitor-spec.js';
import { ApiError } from '../server/errors.js';
import { monitorCreateSchema, monitorSpecOf } from '../server/monitor-request.js';
import type { MonitorView } from '../server/server-monitors.js';
import { parseOr400 } from '../server/validate.js';
import { validateTargets } from '../server/validate-run-args.js';
import type { TransitionRecord } from '../store/monitor-store.js';
import { openStore, type Store } from '../store/store.js';
import { addLabel } from '../targets/labels.js';
import { parseCheckArgs, parseDurationMs, parseIntOption } from './parse-options.js';
import { ApiUnavailableError } from './runs-command.js';

interface MonitorsFlags {
  server?: string;
  token?: string;
  db?: string;
  output?: 'json' | 'table';
}

/** A monitor as `list`/`show` print it: the API's view, or a stored definition with counts read from the store. */
type MonitorRow = Pick<
  MonitorView,
  'name' | 'source' | 'check' | 'intervalMs' | 'paused' | 'downAfter' | 'upAfter'
> & {
  readonly states: Readonly<Record<TargetState, number>>;
  readonly lastRound: { seq: number; state: string; startedAt: string } | null;
  readonly definition: unknown;
};

/** What `fleetprobe monitors` talks to: a server's API or a store directly. */
interface MonitorsSource {
  list(): Promise<MonitorRow[]>;
  get(name: string): Promise<MonitorRow>;
  /** Transitions at or after `since`, oldest first. */
  transitions(name: string, since: Date): Promise<TransitionRecord[]>;
  add(body: Record<string, unknown>): Promise<MonitorRow>;
  remove(name: string): Promise<void>;
  setPaused(name: string, paused: boolean): Promise<MonitorRow>;
  close(): Promise<void>;
}

const EMPTY_STATES: Record<TargetState, number> = { UP: 0, DOWN: 0, UNKNOWN: 0, FLAPPING: 0 };

function rowOfView(v: MonitorView): MonitorRow {
  const { status, ...definition } = v;
  return {
    name: v.name,
    source: v.source,
    check: v.check,
    intervalMs: v.intervalMs,
    paused: v.paused,
    downAfter: v.downAfter,
    upAfter: v.upAfter,
    states: status?.states ?? EMPTY_STATES,
    lastRound: status?.lastRound ?? null,
    definition,
  };
}

function apiSource(base: string, token: string | undefined): MonitorsSource {
  const root = base.replace(/\/+$/, '');
  const call = async <T>(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(`${root}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      throw new ApiUnavailableError(`cannot reach ${root}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.body.text();
    let parsed: { message?: string } | undefined;
    try {
      parsed = text === '' ? undefined : (JSON.parse(text) as { message?: string });
    } catch {
      parsed = undefined;
    }
    if (res.statusCode >= 400 && res.statusCode < 500)
      throw new UsageError(`${method} ${path}: ${res.statusCode} ${parsed?.message ?? text.slice(0, 200)}`);
    if (res.statusCode >= 500)
      throw new ApiUnavailableError(`${method} ${path}: ${res.statusCode} ${parsed?.message ?? ''}`);
    return parsed as T;
  };
  const path = (name: string) => `/api/v1/monitors/${encodeURIComponent(name)}`;
  return {
    list: async () =>
      (await call<{ monitors: MonitorView[] }>('GET', '/api/v1/monitors')).monitors.map(rowOfView),
    get: async (name) => rowOfView(await call<MonitorView>('GET', path(name))),
    transitions: async (name, since) => {
      const out: TransitionRecord[] = [];
      let cursor: string | null = null;
      do {
        const qs = new URLSearchParams({ since: since.toISOString(), limit: '1000' });
        if (cursor) qs.set('cursor', cursor);
        const page: { transitions: TransitionRecord[]; nextCursor: string | null } = await call(
          'GET',
          `${path(name)}/transitions?${qs}`,
        );
        out.push(...page.transitions);
        cursor = page.nextCursor;
      } while (cursor);
      return out;
    },
    add: async (body) => rowOfView(await call<MonitorView>('POST', '/api/v1/monitors', body)),
    remove: async (name) => {
      await call('DELETE', path(name));
    },
    setPaused: async (name, paused) =>
      rowOfView(await call<MonitorView>('POST', `${path(name)}/${paused ? 'pause' : 'resume'}`)),
    close: async () => {},
  };
}

/**
 * The store directly (`--db`): API-defined monitors only (config monitors live in the server's config file).
 * A running server sees changes made here at its next start; `--server` applies them at once.
 */
function storeSource(store: Store): MonitorsSource {
  const m = store.monitors;
  const rowOf = async (name: string): Promise<MonitorRow> => {
    const stored = await m.getMonitor(name);
    if (stored?.spec.source !== 'api')
      throw new UsageError(
        `monitor "${name}" is not stored (monitors of a config file are seen through --server)`,
      );
    const states = { ...EMPTY_STATES };
    for await (const t of m.loadTargetStates(name)) states[t.state]++;
    const last = await m.lastRound(name);
    const { spec } = stored;
    return {
      name: spec.name,
      source: spec.source,
      check: spec.check,
      intervalMs: spec.intervalMs,
      paused: stored.paused,
      downAfter: spec.downAfter,
      upAfter: spec.upAfter,
      states,
      lastRound: last ? { seq: last.seq, state: last.state, startedAt: last.startedAt } : null,
      definition: spec,
    };
  };
  return {
    list: async () => {
      const names = (await m.listMonitors()).filter((s) => s.spec.source === 'api').map((s) => s.spec.name);
      return Promise.all(names.map(rowOf));
    },
    get: rowOf,
    transitions: async (name, since) => {
      const out: TransitionRecord[] = [];
      let cursor: string | undefined;
      do {
        const page = await m.listTransitions(name, { since, limit: 1000, cursor });
        out.push(...page.transitions);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      return out;
    },
    add: async (body) => {
      let spec: ReturnType<typeof monitorSpecOf>;
      try {
        const req = parseOr400(monitorCreateSchema, body, 'monitor');
        const registry = createBuiltinRegistry();
        if (!registry.has(req.check))
          throw new UsageError(
            `unknown check "${req.check}" (available: ${registry
              .list()
              .map((c) => c.name)
              .join(', ')})`,
          );
        validateCheckArgs(registry.get(req.check), req.args);
        validateTargets(req.targets, undefined, 'targets');
        spec = monitorSpecOf(req, req.check);
      } catch (err) {
        // The API's wording (`monitor.interval: ...`), as a usage error: exit 2, one line.
        if (err instanceof ApiError) throw new UsageError(err.message);
        throw err;
      }
      if (await m.getMonitor(spec.name)) throw new UsageError(`monitor "${spec.name}" already exists`);
      await m.saveMonitor(spec);
      return rowOf(spec.name);
    },
    remove: async (name) => {
      await rowOf(name);
      await m.deleteMonitor(name);
      await m.deleteMonitorData(name);
    },
    setPaused: async (name, paused) => {
      await rowOf(name);
      await m.setMonitorPaused(name, paused);
      return rowOf(name);
    },
    close: () => store.close(),
  };
}

async function openSource(flags: MonitorsFlags): Promise<MonitorsSource> {
  if (flags.server && flags.db) throw new UsageError('give --server or --db, not both');
  if (flags.db) return storeSource(await openStore(flags.db));
  const server = flags.server ?? process.env.FLEETPROBE_SERVER;
  if (!server) throw new UsageError('monitors: give --server <url> (or FLEETPROBE_SERVER) or --db <url>');
  return apiSource(server, flags.token ?? process.env.FLEETPROBE_TOKEN);
}

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
const counts = (s: Readonly<Record<TargetState, number>>) =>
  TARGET_STATES.map((k) => `${k} ${s[k]}`).join('  ');

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `fleetprobe monitors list|show|add|rm|pause|resume`, through a server's API (`--server`, with `--token`
 * or FLEETPROBE_TOKEN) or a store directly (`--db`). A table on a TTY, JSON otherwise (`-o`).
 */
export function monitorsCommand(program: Command): void {
  const monitors = program
    .command('monitors')
    .description('list, show, add, remove, pause and resume monitors')
    .option('--server <url>', 'a fleetprobe server, e.g. http://127.0.0.1:7070 (env FLEETPROBE_SERVER)')
    .option('--token <token>', 'API token (env FLEETPROBE_TOKEN)')
    .option(
      '--db <url>',
      'the store directly (API-defined monitors; a running server sees changes at its next start)',
    )
    .option('-o, --output <format>', 'json | table (default: table on a TTY, else json)');

  const withSource = async (fn: (src: MonitorsSource, asTable: boolean) => Promise<void>) => {
    const flags = monitors.opts<MonitorsFlags>();
    if (flags.output && flags.output !== 'json' && flags.output !== 'table')
      throw new UsageError(`--output: "${flags.output}" is not json or table`);
    const asTable = flags.output ? flags.output === 'table' : process.stdout.isTTY === true;
    const src = await openSource(flags);
    try {
      await fn(src, asTable);
    } finally {
      await src.close();
    }
  };
  const printRow = (row: MonitorRow, asTable: boolean): void => {
    process.stdout.write(
      asTable
        ? `${row.name}: ${row.paused ? 'paused' : 'running'}  ${counts(row.states)}\n`
        : `${JSON.stringify(row)}\n`,
    );
  };

  monitors
    .command('list')
    .description('every monitor with its state counts')
    .action(async () => {
      await withSource(async (src, asTable) => {
        const rows = await src.list();
        if (!asTable) {
          for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
          return;
        }
        const head = ['NAME', 'SOURCE', 'CHECK', 'EVERY', 'PAUSED', ...TARGET_STATES, 'LAST ROUND'];
        process.stdout.write(
          table([
            head,
            ...rows.map((r) => [
              r.name,
              r.source,
              r.check,
              seconds(r.intervalMs),
              r.paused ? 'yes' : 'no',
              ...TARGET_STATES.map((s) => String(r.states[s])),
              r.lastRound ? `#${r.lastRound.seq} ${r.lastRound.state} ${r.lastRound.startedAt}` : '-',
            ]),
          ]),
        );
      });
    });

  monitors
    .command('show <name>')
    .description('a monitor: definition, current state counts, recent transitions')
    .option('--since <duration>', 'transitions of this last period', '24h')
    .option('--limit <n>', 'most transitions shown (the newest)', '20')
    .action(async (name: string, o: { since: string; limit: string }) => {
      const since = new Date(Date.now() - parseDurationMs(o.since, '--since'));
      const limit = parseIntOption(o.limit, '--limit', 1, 100_000);
      await withSource(async (src, asTable) => {
        const row = await src.get(name);
        const transitions = (await src.transitions(name, since)).slice(-limit);
        if (!asTable) {
          process.stdout.write(`${JSON.stringify({ ...row, transitions })}\n`);
          return;
        }
        const w = (s: string) => process.stdout.write(`${s}\n`);
        w(`monitor   ${row.name} (${row.source})${row.paused ? ' paused' : ''}`);
        w(
          `check     ${row.check} every ${seconds(row.intervalMs)}, DOWN after ${row.downAfter}, UP after ${row.upAfter}`,
        );
        w(`targets   ${counts(row.states)}`);
        w(
          `last      ${row.lastRound ? `round #${row.lastRound.seq} ${row.lastRound.state} at ${row.lastRound.startedAt}` : 'no round yet'}`,
        );
        w(`transitions since ${since.toISOString()}: ${transitions.length}`);
        if (transitions.length > 0)
          process.stdout.write(
            table([
              ['AT', 'TARGET', 'PORT', 'FROM', 'TO', 'STATUS', 'MESSAGE'],
              ...transitions.map((t) => [
                t.at,
                t.target,
                String(t.port ?? '-'),
                t.from,
                t.to,
                t.status,
                t.message,
              ]),
            ]),
          );
      });
    });

  monitors
    .command('add <name> <check> <target...>')
    .description('define a monitor (targets as `run` takes them: addresses, CIDR blocks, host:port)')
    .requiredOption('--interval <duration>', 'time between rounds, e.g. 30s, 5m')
    .option('-t, --timeout <duration>', "per-target deadline (default: the check's)")
    .option('-a, --arg <key=value>', 'check argument (repeatable)', collect, [])
    .option('--args-json <object>', 'check arguments as a JSON object')
    .option('-c, --concurrency <n>', 'checks in flight per round')
    .option('--label <key=value>', 'label added to every result (repeatable)', collect, [])
    .option('--down-after <n>', 'non-pass results in a row before DOWN', '2')
    .option('--up-after <n>', 'passes in a row before UP again', '1')
    .option('--paused', 'define it paused')
    .action(
      async (
        name: string,
        check: string,
        targets: string[],
        o: {
          interval: string;
          timeout?: string;
          arg: string[];
          argsJson?: string;
          concurrency?: string;
          label: string[];
          downAfter: string;
          upAfter: string;
          paused?: boolean;
        },
      ) => {
        const labels: Record<string, string> = {};
        for (const pair of o.label) {
          try {
            addLabel(labels, pair);
          } catch (err) {
            throw new UsageError(`--label: ${(err as Error).message}`);
          }
        }
        const body: Record<string, unknown> = {
          name,
          check,
          args: parseCheckArgs(o.arg, o.argsJson),
          targets,
          interval: o.interval,
          timeout: o.timeout,
          concurrency: o.concurrency ? parseIntOption(o.concurrency, '--concurrency', 1, 100_000) : undefined,
          labels,
          downAfter: parseIntOption(o.downAfter, '--down-after', 1, 1000),
          upAfter: parseIntOption(o.upAfter, '--up-after', 1, 1000),
          paused: o.paused === true,
        };
        await withSource(async (src, asTable) => printRow(await src.add(body), asTable));
      },
    );

  monitors
    .command('rm <name>')
    .description('delete a monitor with its states and history (its runs stay)')
    .action(async (name: string) => {
      await withSource(async (src) => {
        await src.remove(name);
      });
    });

  for (const [verb, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    monitors
      .command(`${verb} <name>`)
      .description(`${verb} a monitor (persisted)`)
      .action(async (name: string) => {
        await withSource(async (src, asTable) => printRow(await src.setPaused(name, paused), asTable));
      });
  }
}
