import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { request } from 'undici';
import { parseDurationMs } from '../core/duration.js';
import { UsageError } from '../core/errors.js';
import { ALERT_STATES } from '../model/notification.js';
import { type Silence, silenceInputSchema } from '../model/silences.js';
import type { AlertRecord } from '../store/alert-store.js';
import { openStore, type Store } from '../store/index.js';
import { parseIntOption } from './parse-options.js';
import { ApiUnavailableError } from './runs-command.js';

interface SourceFlags {
  server?: string;
  token?: string;
  db?: string;
}

/** What the alerts and silences commands read and change: a server's API or a store directly. */
interface AlertsSource {
  listAlerts(q: { state?: string; monitor?: string; limit: number; cursor?: string }): Promise<{
    alerts: AlertRecord[];
    nextCursor: string | null;
  }>;
  listSilences(all: boolean): Promise<Silence[]>;
  createSilence(body: Record<string, unknown>): Promise<Silence>;
  expireSilence(id: string): Promise<boolean>;
  close(): Promise<void>;
}

function storeSource(store: Store): AlertsSource {
  return {
    listAlerts: (q) => store.alerts.listAlerts(q as Parameters<Store['alerts']['listAlerts']>[0]),
    listSilences: (all) => store.alerts.listSilences(all ? {} : { nowMs: Date.now() }),
    async createSilence(body) {
      const parsed = silenceInputSchema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new UsageError(
          `silence ${issue?.path.join('.') || ''}: ${issue?.message ?? 'invalid'}`.replace(' :', ':'),
        );
      }
      const now = new Date().toISOString();
      return store.alerts.createSilence({
        ...parsed.data,
        id: randomUUID(),
        startsAt: parsed.data.startsAt ?? now,
        createdAt: now,
      });
    },
    expireSilence: (id) => store.alerts.expireSilence(id, Date.now()),
    close: () => store.close(),
  };
}

function apiSource(base: string, token: string | undefined): AlertsSource {
  const root = base.replace(/\/+$/, '');
  const call = async <T>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<T | null> => {
    let res: Awaited<ReturnType<typeof request>>;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      res = await request(`${root}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiUnavailableError(`cannot reach ${root}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.body.text();
    if (res.statusCode === 404 && method === 'DELETE') return null;
    const parsed = text ? (JSON.parse(text) as T & { message?: string }) : null;
    if (res.statusCode >= 500) throw new ApiUnavailableError(`${method} ${path}: ${res.statusCode}`);
    if (res.statusCode >= 400)
      throw new UsageError(`${method} ${path}: ${res.statusCode} ${parsed?.message ?? ''}`);
    return parsed;
  };
  return {
    async listAlerts(q) {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(q)) if (v !== undefined) qs.set(k, String(v));
      return (await call<{ alerts: AlertRecord[]; nextCursor: string | null }>(
        'GET',
        `/api/v1/alerts?${qs}`,
      ))!;
    },
    listSilences: async (all) =>
      (await call<{ silences: Silence[] }>('GET', `/api/v1/silences${all ? '?all=true' : ''}`))!.silences,
    createSilence: async (body) => (await call<Silence>('POST', '/api/v1/silences', body))!,
    expireSilence: async (id) =>
      (await call('DELETE', `/api/v1/silences/${encodeURIComponent(id)}`)) !== null,
    close: async () => {},
  };
}

async function withSource(flags: SourceFlags, fn: (src: AlertsSource) => Promise<void>): Promise<void> {
  if (flags.server && flags.db) throw new UsageError('give --server or --db, not both');
  let src: AlertsSource;
  if (flags.db) src = storeSource(await openStore(flags.db));
  else {
    const server = flags.server ?? process.env.FLEETPROBE_SERVER;
    if (!server) throw new UsageError('give --server <url> (or FLEETPROBE_SERVER) or --db <url>');
    src = apiSource(server, flags.token ?? process.env.FLEETPROBE_TOKEN);
  }
  try {
    await fn(src);
  } finally {
    await src.close();
  }
}

const sourceOptions = (cmd: Command): Command =>
  cmd
    .option('--server <url>', 'a fleetprobe server, e.g. http://127.0.0.1:7070 (env FLEETPROBE_SERVER)')
    .option('--token <token>', 'API token (env FLEETPROBE_TOKEN)')
    .option('--db <url>', 'a store directly: a SQLite path or postgres:// URL');

const collect = (value: string, list: string[]) => [...list, value];

/**
 * `fleetprobe alerts [--state firing|resolved] [--monitor m] [--limit n]`: the alert history, newest first, as
 * JSON lines. `fleetprobe silences list [--all] | add --until <time|duration> [--monitor m] [--match k=v]...
 * [--target cidr]... [--comment text] | rm <id>`. Both read `--server` (API) or `--db` (store).
 */
export function alertsCommand(program: Command): void {
  sourceOptions(program.command('alerts').description('alert history, newest first (JSON lines)'))
    .option('--state <state>', `only ${ALERT_STATES.join(' or ')} alerts`)
    .option('--monitor <name>', 'only alerts of this monitor')
    .option('--limit <n>', 'most alerts shown', '100')
    .action(async (o: SourceFlags & { state?: string; monitor?: string; limit: string }) => {
      if (o.state && !(ALERT_STATES as readonly string[]).includes(o.state)) {
        throw new UsageError(`--state: "${o.state}" is not one of ${ALERT_STATES.join(', ')}`);
      }
      let left = parseIntOption(o.limit, '--limit', 1, 1_000_000);
      await withSource(o, async (src) => {
        let cursor: string | undefined;
        do {
          const page = await src.listAlerts({
            state: o.state,
            monitor: o.monitor,
            limit: Math.min(left, 1000),
            cursor,
          });
          for (const a of page.alerts) process.stdout.write(`${JSON.stringify(a)}\n`);
          left -= page.alerts.length;
          cursor = page.nextCursor ?? undefined;
        } while (cursor && left > 0);
      });
    });

  const silences = program.command('silences').description('silences and maintenance windows');
  sourceOptions(silences.command('list').description('silences not yet ended (JSON lines)'))
    .option('--all', 'also the ended ones')
    .action(async (o: SourceFlags & { all?: boolean }) => {
      await withSource(o, async (src) => {
        for (const s of await src.listSilences(o.all === true))
          process.stdout.write(`${JSON.stringify(s)}\n`);
      });
    });
  sourceOptions(silences.command('add').description('silence matching alerts until a time'))
    .requiredOption('--until <time>', 'end: an ISO-8601 time or a duration from now (2h, 30m)')
    .option('--from <time>', 'start: an ISO-8601 time (default now)')
    .option('--monitor <name>', 'only alerts of this monitor')
    .option(
      '--match <matcher>',
      'label matcher: name=value, name!=value, name=~regex, name!~regex',
      collect,
      [],
    )
    .option('--target <spec>', 'address, name or CIDR block every cause of the alert lies in', collect, [])
    .option('--comment <text>', 'why', '')
    .action(
      async (
        o: SourceFlags & {
          until: string;
          from?: string;
          monitor?: string;
          match: string[];
          target: string[];
          comment: string;
        },
      ) => {
        const endsAt = /^\d{4}-/.test(o.until)
          ? o.until
          : new Date(Date.now() + parseDurationMs(o.until, '--until')).toISOString();
        const body: Record<string, unknown> = {
          matchers: o.match,
          targets: o.target,
          endsAt,
          comment: o.comment,
          createdBy: process.env.USER ?? '',
        };
        if (o.monitor !== undefined) body.monitor = o.monitor;
        if (o.from !== undefined) body.startsAt = o.from;
        await withSource(o, async (src) => {
          process.stdout.write(`${JSON.stringify(await src.createSilence(body))}\n`);
        });
      },
    );
  sourceOptions(silences.command('rm <id>').description('end a silence now')).action(
    async (id: string, o: SourceFlags) => {
      await withSource(o, async (src) => {
        if (!(await src.expireSilence(id))) throw new UsageError(`silence "${id}" does not exist`);
      });
    },
  );
}
