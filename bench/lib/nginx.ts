import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForListener } from './net.js';

/** Debian's nginx (package nginx-light or nginx). */
export const NGINX_BIN = '/usr/sbin/nginx';

export interface NginxOptions {
  /** `worker_processes` (default 1; `auto` = one per core). */
  readonly workers?: number | 'auto';
  /** Port on 0.0.0.0 (default: a free one). Every 127.x.y.z address reaches it. */
  readonly port?: number;
  /** Response body of every request (default `ok\n`), status 200. */
  readonly body?: string;
  /**
   * `keepalive_timeout` in seconds (default 0: nginx closes after each response). Every benchmark host is a
   * different address, so a connection is never reused; with keep-alive on, curl holds its finished
   * connections open and sweeps ~1.5x slower than with 0 (measured), so 0 is curl's best configuration.
   */
  readonly keepaliveTimeoutS?: number;
}

export interface Nginx {
  readonly port: number;
  readonly pid: number;
  readonly dir: string;
  /** Stops nginx (SIGQUIT, then SIGKILL after 5 s), removes its temp dir. Idempotent. */
  close(): Promise<void>;
}

export function nginxAvailable(): boolean {
  return existsSync(NGINX_BIN);
}

/**
 * Starts nginx in the foreground (`daemon off`) with its own config, pid file and logs in a temp dir:
 * `return 200` for every request, no access log, no keep-alive by default (see `keepaliveTimeoutS`),
 * a deep accept backlog and many worker connections.
 * Runs as the current user (`user root;` when that is root, since nginx would otherwise switch to nobody).
 */
export async function startNginx(options: NginxOptions = {}): Promise<Nginx> {
  if (!nginxAvailable()) throw new Error(`${NGINX_BIN} not found (apt-get install -y nginx-light)`);
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fp-bench-nginx-'));
  const body = JSON.stringify(options.body ?? 'ok\n');
  const conf = `${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
master_process on;
worker_processes ${options.workers ?? 1};
worker_rlimit_nofile 65536;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log error;
events { worker_connections 16384; multi_accept on; }
http {
  access_log off;
  keepalive_timeout ${options.keepaliveTimeoutS ?? 0};
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 0.0.0.0:${port} backlog=65535 reuseport;
    location / { default_type text/plain; return 200 ${body}; }
  }
}
`;
  const confFile = path.join(dir, 'nginx.conf');
  await writeFile(confFile, conf);
  const child: ChildProcess = spawn(NGINX_BIN, ['-p', dir, '-c', confFile, '-e', `${dir}/error.log`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })();
    return closing;
  };
  try {
    await Promise.race([
      waitForListener('127.0.0.1', port),
      exited.then(async () => {
        const log = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
        throw new Error(`nginx exited at start: ${stderr}${log}`.trim());
      }),
    ]);
  } catch (err) {
    await close();
    throw err;
  }
  return { port, pid: child.pid ?? -1, dir, close };
}
