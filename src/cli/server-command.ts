import type { Command } from 'commander';
import pino from 'pino';
import { createBuiltinRegistry } from '../checks/builtins.js';
import { ConfigHolder } from '../config/config-holder.js';
import { addCredentialFlag, emptyCredentials } from '../config/credentials.js';
import { addProbeModuleFlag, type ProbeModulesConfig } from '../config/probe-modules.js';
import { UsageError } from '../core/errors.js';
import { assertPrefix } from '../distributed/names.js';
import { loadTokens } from '../server/auth.js';
import { DEFAULT_DB, DEFAULT_LISTEN, startServer } from '../server/start.js';
import { openSearchIndexSink, searchIndexConfig } from '../sinks/search/open.js';
import { isLabelKey } from '../targets/labels.js';
import { parseDurationMs, parseIntOption } from './parse-options.js';
import { leaseTtlMs } from './runtime.js';
import { reloadOnSighup } from './server-config.js';
import { parseThreads } from './threads-option.js';

interface ServerFlags {
  listen: string;
  db: string;
  tokenFile?: string;
  allowTargets?: string;
  maxRuns: string;
  maxSse: string;
  keep?: string;
  keepRounds?: string;
  grace: string;
  nats?: string;
  natsPrefix: string;
  sshIdentity: string[];
  knownHosts: string[];
  ca: string[];
  checkModule: string[];
  config?: string;
  probeModule: string[];
  metricsPublic?: boolean;
  searchIndex?: string;
  searchIndexName?: string;
  metricsLabel?: string;
  metricsLabelCap: string;
  threads?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * `fleetprobe server`: the HTTP API (runs, results, SSE progress, metrics). Tokens come from --token-file
 * (`role:token` lines) and FLEETPROBE_TOKENS (`read:abc,operate:def`); with none, it listens on 127.0.0.1
 * only and says so. SIGTERM/SIGINT: graceful shutdown within --grace; a second signal cancels at once.
 * Logs (pino JSON) go to stderr.
 */
export function serverCommand(program: Command): void {
  program
    .command('server')
    .description('HTTP API: start runs, follow their progress, browse stored results')
    .option('--listen <host:port>', 'address to listen on (127.0.0.1 only without tokens)', DEFAULT_LISTEN)
    .option('--db <url>', 'store: a SQLite path or postgres:// URL', DEFAULT_DB)
    .option('--token-file <path>', 'API tokens, one "read:<token>" or "operate:<token>" per line')
    .option('--allow-targets <cidrs>', 'comma-separated CIDR blocks runs may target (403 otherwise)')
    .option('--max-runs <n>', 'runs executing at once; more wait queued', '4')
    .option('--max-sse <n>', 'event streams (GET /api/v1/runs/:id/events) open at once; more get 503', '256')
    .option(
      '--keep <duration>',
      'delete runs and monitor transitions older than this (e.g. 30d), checked hourly (transitions: 90d by default)',
    )
    .option('--keep-rounds <n>', 'raw results kept for this many latest rounds of each monitor', '10')
    .option(
      '--grace <duration>',
      'on shutdown, time for running runs to finish before they are cancelled',
      '10s',
    )
    .option('--nats <url>', 'distributed mode: run checks on workers through NATS JetStream')
    .option(
      '--threads <n>',
      'worker threads runs and monitor rounds are sharded over (default: the cores available; not with --nats)',
    )
    .option(
      '--nats-prefix <prefix>',
      'subject and stream prefix (streams <PREFIX>_SHARDS, _RESULTS, _RUNS); workers must use the same',
      'fleetprobe',
    )
    .option(
      '--ssh-identity <name=path>',
      'an SSH private key API runs may use by name (repeatable)',
      collect,
      [],
    )
    .option(
      '--known-hosts <name=path>',
      'a known_hosts store API runs may use by name; "default" when a run names none (repeatable)',
      collect,
      [],
    )
    .option('--ca <name=path>', 'a CA bundle (PEM) API runs may use by name (repeatable)', collect, [])
    .option(
      '--check-module <name=path>',
      "a user check API runs may use as their check; name = the check's name (repeatable)",
      collect,
      [],
    )
    .option('--config <path>', 'monitors, inventories and credentials (YAML); reloaded on SIGHUP')
    .option(
      '--probe-module <name=json>',
      'a module for GET /probe (blackbox_exporter style): name={"check":"http","args":{...},"timeout":"5s"} (repeatable)',
      collect,
      [],
    )
    .option('--metrics-public', '/metrics and /probe answer without a token (as Prometheus setups expect)')
    .option(
      '--search-index <url>',
      "also index every run's results in Elasticsearch/OpenSearch (credentials: URL userinfo or FLEETPROBE_SEARCH_AUTH)",
    )
    .option(
      '--search-index-name <pattern>',
      "index name; YYYY, MM, DD: the result's UTC date (default fleetprobe-results-YYYY.MM.DD)",
    )
    .option(
      '--metrics-label <label>',
      "/metrics: each monitor's targets by state and by this label's value (e.g. pop)",
    )
    .option(
      '--metrics-label-cap <n>',
      'most values of --metrics-label per monitor; the rest are summed as "other"',
      '100',
    )
    .action(async (flags: ServerFlags) => {
      const natsPrefix = assertPrefix(flags.natsPrefix, '--nats-prefix');
      const maxConcurrentRuns = parseIntOption(flags.maxRuns, '--max-runs', 1, 1000);
      const maxSseStreams = parseIntOption(flags.maxSse, '--max-sse', 1, 100_000);
      const keepMs = flags.keep ? parseDurationMs(flags.keep, '--keep') : undefined;
      const keepRounds = parseIntOption(flags.keepRounds ?? '10', '--keep-rounds', 1, 100_000);
      const graceMs = parseDurationMs(flags.grace, '--grace');
      const threads = parseThreads(flags.threads);
      if (flags.nats && flags.threads !== undefined) {
        throw new UsageError('--threads: not with --nats (runs execute on workers; give workers --threads)');
      }
      const metricsLabelCap = parseIntOption(flags.metricsLabelCap, '--metrics-label-cap', 1, 10_000);
      if (flags.metricsLabel !== undefined && !isLabelKey(flags.metricsLabel))
        throw new UsageError(`--metrics-label: "${flags.metricsLabel}" is not a label name`);
      const tokens = loadTokens(flags.tokenFile ? { tokenFile: flags.tokenFile } : {});
      const allowTargets = flags.allowTargets
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      let credentials = emptyCredentials();
      for (const [group, values] of [
        ['sshIdentities', flags.sshIdentity],
        ['knownHosts', flags.knownHosts],
        ['caBundles', flags.ca],
        ['checkModules', flags.checkModule],
      ] as const) {
        for (const value of values) credentials = addCredentialFlag(credentials, group, value);
      }
      if (flags.searchIndexName !== undefined && flags.searchIndex === undefined) {
        throw new UsageError('--search-index-name needs --search-index');
      }
      const searchConfig =
        flags.searchIndex === undefined
          ? undefined
          : searchIndexConfig(flags.searchIndex, flags.searchIndexName, process.env.FLEETPROBE_SEARCH_AUTH);
      const log = pino({ level: process.env.FLEETPROBE_LOG ?? 'info' }, pino.destination(2));
      // A bad config file stops here: one line, exit 2, nothing started.
      const config = flags.config
        ? await ConfigHolder.load(flags.config, { registry: createBuiltinRegistry(), log })
        : undefined;
      // The flags' modules; the server adds the config file's (a flag replaces a module of the same name).
      let probeModules: ProbeModulesConfig = {};
      for (const value of flags.probeModule) probeModules = addProbeModuleFlag(probeModules, value);
      const server = await startServer({
        listen: flags.listen,
        db: flags.db,
        tokens,
        maxConcurrentRuns,
        credentials,
        maxSseStreams,
        log,
        leaseTtlMs: leaseTtlMs(),
        config,
        probeModules,
        metricsPublic: flags.metricsPublic === true,
        searchIndex: searchConfig ? openSearchIndexSink(searchConfig, { log }) : undefined,
        alerts: { metricsLabel: flags.metricsLabel, metricsLabelCap },
        ...(allowTargets?.length ? { allowTargets } : {}),
        keepRounds,
        ...(keepMs ? { keepMs } : {}),
        ...(flags.nats ? { nats: flags.nats } : {}),
        natsPrefix,
        threads,
      });
      const stopSighup = config ? reloadOnSighup(config, log) : undefined;
      await new Promise<void>((resolve) => {
        let signals = 0;
        const onSignal = (sig: NodeJS.Signals) => {
          signals++;
          log.info({ signal: sig, graceMs: signals === 1 ? graceMs : 0 }, 'shutting down');
          server.close({ graceMs: signals === 1 ? graceMs : 0 }).then(
            () => {
              stopSighup?.();
              process.off('SIGINT', onSignal);
              process.off('SIGTERM', onSignal);
              resolve();
            },
            (err: unknown) => {
              log.error({ err }, 'shutdown failed');
              process.exitCode = 1;
              resolve();
            },
          );
          // A second signal: cancel running runs now (close() is idempotent; the manager aborts them).
          if (signals > 1) void server.manager.close({ graceMs: 0 });
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
    });
}
