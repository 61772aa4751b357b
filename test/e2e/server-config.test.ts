import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../server/helpers.js';
import { type CliProcess, ensureBuilt, lines, ROOT, runCli, startCli } from './cli.js';

const monitor = (name: string) =>
  `  - {name: ${name}, check: tcp, args: {port: 22}, targets: [127.0.0.1], interval: 1m}\n`;

let dir: string;
beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), 'fleetprobe-server-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Resolves once `child` has written a stderr line matching `pattern`; the line's JSON. */
function waitForLog(cli: CliProcess, pattern: RegExp, after = 0): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const line = lines(cli.stderr())
        .slice(after)
        .find((l) => pattern.test(l));
      if (line === undefined) return false;
      cli.child.stderr?.off('data', onData);
      cli.child.off('close', onClose);
      resolve(JSON.parse(line) as Record<string, unknown>);
      return true;
    };
    const onData = () => {
      setImmediate(check);
    };
    const onClose = () => {
      if (!check()) reject(new Error(`exited before logging ${pattern}: ${cli.stderr()}`));
    };
    cli.child.stderr?.on('data', onData);
    cli.child.once('close', onClose);
    check();
  });
}

describe('fleetprobe server --config', () => {
  it('a bad file: one line naming file:line:column, exit 2, nothing started', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(
      path,
      `monitors:\n${monitor('a')}  - {name: b, check: tcp, targets: [127.0.0.1], interval: fast}\n`,
    );
    const db = join(dir, 'bad.db');
    const run = await runCli(['server', '--config', path, '--listen', '127.0.0.1:0', '--db', db]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `fleetprobe: ${path}:3:59: monitors[1].interval: expected a duration like 30s or 5m, got "fast"\n`,
    );
    expect(run.stdout).toBe('');
    // Nothing started: not even the store was created.
    await expect(rm(db)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reloads on SIGHUP and POST /api/v1/config/reload; a bad file keeps the running config', async () => {
    const path = join(dir, 'fleetprobe.yaml');
    await writeFile(path, `monitors:\n${monitor('a')}`);
    const cli = startCli(['server', '--config', path, '--listen', '127.0.0.1:0', '--db', join(dir, 'ok.db')]);
    try {
      const started = await waitForLog(cli, /fleetprobe server listening/);
      const url = started.url as string;
      expect((await api(url, 'GET', '/api/v1/config')).body).toMatchObject({ generation: 1, monitors: 1 });

      await writeFile(path, `monitors:\n${monitor('a')}${monitor('b')}`);
      let seen = lines(cli.stderr()).length;
      cli.child.kill('SIGHUP');
      const reloaded = await waitForLog(cli, /"config reloaded"/, seen);
      expect(reloaded.summary).toMatchObject({ generation: 2, monitors: 2, added: ['b'] });
      expect((await api(url, 'GET', '/api/v1/config')).body).toMatchObject({ generation: 2, monitors: 2 });

      await writeFile(
        path,
        `monitors:\n${monitor('a')}  - {name: b, check: nope, targets: [127.0.0.1], interval: 1m}\n`,
      );
      seen = lines(cli.stderr()).length;
      cli.child.kill('SIGHUP');
      const rejected = await waitForLog(cli, /config reload rejected/, seen);
      expect(rejected.err).toBe(
        `${path}:3:22: monitors[1].check: unknown check "nope" (available: dns, http, ssh, tcp)`,
      );
      const bad = await api(url, 'POST', '/api/v1/config/reload');
      expect(bad.status).toBe(400);
      expect(bad.body.message).toBe(rejected.err);
      expect((await api(url, 'GET', '/api/v1/config')).body).toMatchObject({ generation: 2, monitors: 2 });

      await writeFile(path, `monitors:\n${monitor('c')}`);
      const ok = await api(url, 'POST', '/api/v1/config/reload');
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ generation: 3, monitors: 1, added: ['c'], removed: ['a', 'b'] });
    } finally {
      cli.child.kill('SIGTERM');
    }
    const end = await cli.done;
    expect(end.code).toBe(0);
  });

  // The built CLI runs from bundle/, whose chunks find the package's web/ through the rewritten import.meta.url.
  it("serves the dashboard from the package's web/ folder", async () => {
    const cli = startCli(['server', '--listen', '127.0.0.1:0', '--db', join(dir, 'web.db')]);
    try {
      const url = (await waitForLog(cli, /fleetprobe server listening/)).url as string;
      for (const [route, file] of [
        ['/', 'index.html'],
        ['/ui/app.js', 'ui/app.js'],
      ] as const) {
        const res = await fetch(`${url}${route}`);
        expect(res.status, route).toBe(200);
        expect(await res.text()).toBe(await readFile(join(ROOT, 'web', file), 'utf8'));
      }
    } finally {
      cli.child.kill('SIGTERM');
    }
    expect((await cli.done).code).toBe(0);
  });
});
