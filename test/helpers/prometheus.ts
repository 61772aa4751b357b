import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from '../../src/sim/ssh/sshd.js';

/** Debian's binaries (packages prometheus, prometheus-blackbox-exporter). */
export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';
export const BLACKBOX = '/usr/bin/prometheus-blackbox-exporter';

export const prometheusInstalled = (): boolean => existsSync(PROMETHEUS) && existsSync(PROMTOOL);
export const blackboxInstalled = (): boolean => existsSync(BLACKBOX);

export interface Daemon {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  stderrTail(): string;
  /** SIGTERM (SIGKILL after 5 s), waits for the exit, removes the temp dir. */
  stop(): Promise<void>;
}

/**
 * Starts a Prometheus-family daemon on a free loopback port with a config file written to a temp dir and
 * resolves once its log says it listens (`ready`): a handshake, not a sleep. Rejects with its stderr
 * tail when it exits first or is not ready within `readyTimeoutMs`.
 */
async function startDaemon(opts: {
  bin: string;
  config: (dir: string) => string;
  args: (ctx: { dir: string; configFile: string; listen: string }) => string[];
  ready: RegExp;
  readyTimeoutMs?: number;
}): Promise<Daemon> {
  const dir = await mkdtemp(join(tmpdir(), 'fleetprobe-prom-'));
  const configFile = join(dir, 'config.yml');
  await writeFile(configFile, opts.config(dir));
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  const child: ChildProcess = spawn(opts.bin, opts.args({ dir, configFile, listen }), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let tail = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${opts.bin}: not ready within ${opts.readyTimeoutMs ?? 30_000} ms: ${tail}`)),
        opts.readyTimeoutMs ?? 30_000,
      );
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => {
        tail = (tail + chunk).slice(-4000);
        if (opts.ready.test(tail)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`${opts.bin} exited (${code ?? signal}): ${tail}`));
      });
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: `http://${listen}`, stderrTail: () => tail, stop };
}

/** Debian's blackbox_exporter with `configYaml` as its config. */
export function startBlackbox(configYaml: string): Promise<Daemon> {
  return startDaemon({
    bin: BLACKBOX,
    config: () => configYaml,
    args: ({ configFile, listen }) => [`--config.file=${configFile}`, `--web.listen-address=${listen}`],
    ready: /msg="Listening on"/,
  });
}

/** Debian's Prometheus with `configYaml` as its config, its TSDB in the temp dir. */
export function startPrometheus(configYaml: string): Promise<Daemon> {
  return startDaemon({
    bin: PROMETHEUS,
    config: () => configYaml,
    args: ({ dir, configFile, listen }) => [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=${listen}`,
    ],
    ready: /Server is ready to receive web requests/,
    readyTimeoutMs: 60_000,
  });
}

/** GET a URL's body as text (with optional headers). */
export async function getText(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const res = await request(url, { headers });
  return { status: res.statusCode, text: await res.body.text() };
}

/** The value of the first sample of `name` (with exactly these labels, if given) in exposition text. */
export function sampleOf(text: string, name: string, labels = ''): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    if (line.slice(0, space) === `${name}${labels}`) return Number(line.slice(space + 1));
  }
  return undefined;
}
