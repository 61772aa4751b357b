import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from '../../src/sim/ssh/sshd.js';

export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';
export const alertmanagerInstalled = existsSync(ALERTMANAGER_BIN);

/** An alert as Alertmanager's `GET /api/v2/alerts` lists it (the fields the tests read). */
export interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint: string;
  status: { state: string };
}

export interface AlertmanagerProcess {
  readonly url: string;
  alerts(): Promise<GettableAlert[]>;
  stop(): Promise<void>;
}

/**
 * Starts Debian's Alertmanager on a free loopback port with a temp storage path and a config whose only
 * receiver discards (the tests read the API, not notifications), clustering off. Resolves once `/-/ready`
 * answers 200; rejects with its stderr if it exits first.
 */
export async function startAlertmanager(): Promise<AlertmanagerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'fp-am-'));
  const config = join(dir, 'alertmanager.yml');
  writeFileSync(config, ['route:', '  receiver: discard', 'receivers:', '  - name: discard', ''].join('\n'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    ALERTMANAGER_BIN,
    [
      `--config.file=${config}`,
      `--storage.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`alertmanager exited (${code}): ${stderr.slice(-500)}`))),
  );
  const stop = async () => {
    if (child.exitCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = (async () => {
    for (let i = 0; i < 200; i++) {
      try {
        const res = await request(`${url}/-/ready`);
        await res.body.dump();
        if (res.statusCode === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`alertmanager not ready on ${url}: ${stderr.slice(-500)}`);
  })();
  try {
    await Promise.race([ready, exited]);
  } catch (err) {
    await stop();
    throw err;
  }
  exited.catch(() => {}); // a later exit (stop) is expected
  return {
    url,
    async alerts() {
      const res = await request(`${url}/api/v2/alerts`);
      return (await res.body.json()) as GettableAlert[];
    },
    stop,
  };
}
