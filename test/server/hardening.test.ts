/**
 * Issue 13, items 1-5, as an attacker with an operate token would try them through the real HTTP API:
 * addresses in arguments outside the allow-list, server-side paths (write, read, use as keys), unbounded
 * reads (FIFO, /dev/zero) and a catastrophic regex.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Credentials } from '../../src/config/index.js';
import { parseTokens, startServer } from '../../src/server/index.js';
import { type SimSshServer, startSimSshServer } from '../../src/sim/ssh/index.js';
import { tinyFleet } from '../sim-ssh/tiny-model.js';
import { api, type Json, startApi, type TestApi } from './helpers.js';

const OPERATE = 'operate-token-0123456789';
const tokens = parseTokens(`operate:${OPERATE}`, 'test');
const post = (srv: TestApi, body: unknown) => api(srv.url, 'POST', '/api/v1/runs', body, OPERATE);
/** Credentials as a config file would give them (a plain object: no helper of the code under test). */
const creds = (some: Partial<Credentials>): Credentials => ({
  sshIdentities: {},
  knownHosts: {},
  caBundles: {},
  checkModules: {},
  ...some,
});
const FIXTURES = resolve(import.meta.dirname, '..', 'fixtures', 'user-checks');

/** Submits a run, waits until it ended, returns the run and its results. */
async function runToEnd(srv: TestApi, body: unknown): Promise<{ run: Json; results: Json[] }> {
  const res = await post(srv, body);
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  await srv.manager.finished(res.body.id);
  const run = await api(srv.url, 'GET', `/api/v1/runs/${res.body.id}`, undefined, OPERATE);
  const results = await api(srv.url, 'GET', `/api/v1/runs/${res.body.id}/results`, undefined, OPERATE);
  return { run: run.body, results: results.body.results };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fp-hardening-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the allow-list covers every address a check contacts, not only targets', () => {
  let srv: TestApi;
  beforeAll(async () => {
    const credentials = creds({ checkModules: { relay: join(FIXTURES, 'relay-check.mjs') } });
    srv = await startApi({ auth: { tokens }, allowTargets: ['127.66.0.0/16'], credentials });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('a dns server outside the allow-list is refused with 403 naming args.server, and nothing runs', async () => {
    const res = await post(srv, {
      check: 'dns',
      targets: ['127.66.0.1'],
      args: { server: '127.99.0.1:31999', name: 'exfil.example' },
    });
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('forbidden');
    expect(res.body.message).toMatch(/^body\.args\.server: "127\.99\.0\.1:31999" is outside the allowed/);
    expect((await api(srv.url, 'GET', '/api/v1/runs', undefined, OPERATE)).body.runs).toEqual([]);
  });

  it('a dns server inside the allow-list is accepted', async () => {
    const res = await post(srv, {
      check: 'dns',
      targets: ['127.66.0.1'],
      args: { server: '127.66.0.53:31999', name: 'ok.example' },
      timeoutMs: 200,
    });
    expect(res.status).toBe(202);
  });

  it("a user check's declared address argument is held to the allow-list too; a hostname there is refused", async () => {
    const outside = await post(srv, { check: 'relay', targets: ['127.66.0.1'], args: { via: '10.1.2.3' } });
    expect(outside.status).toBe(403);
    expect(outside.body.message).toMatch(/^body\.args\.via: "10\.1\.2\.3" is outside/);
    const name = await post(srv, { check: 'relay', targets: ['127.66.0.1'], args: { via: 'relay.example' } });
    expect(name.status).toBe(403);
    expect(name.body.message).toMatch(/^body\.args\.via: .*names are not allowed/);
    const { results } = await runToEnd(srv, {
      check: 'relay',
      targets: ['127.66.0.1'],
      args: { via: '127.66.0.9' },
    });
    expect(results.map((r: Json) => [r.status, r.message])).toEqual([['pass', 'via 127.66.0.9']]);
  });
});

describe('server-side files are named credentials: API runs never give paths', () => {
  let sim: SimSshServer;
  let srv: TestApi;
  let tokenFile: string;
  let store: string;
  const model = tinyFleet(['healthy']);
  const target = model.host(0).address;

  beforeAll(async () => {
    sim = await startSimSshServer(model, { stateDir: join(dir, 'sim-state') });
    tokenFile = join(dir, 'tokens');
    await writeFile(tokenFile, `operate:${OPERATE}\n`);
    store = join(dir, 'fleet_known_hosts');
    srv = await startApi({
      auth: { tokens },
      credentials: creds({ sshIdentities: { sim: sim.clientKeyFile }, knownHosts: { fleet: store } }),
    });
  });
  afterAll(async () => {
    await srv?.close();
    await sim?.close();
  });

  const ssh = (args: Record<string, unknown>) => ({
    check: 'ssh',
    targets: [target],
    args: { port: sim.port, user: 'probe', identity: 'sim', knownHosts: 'fleet', ...args },
  });

  it('knownHosts as a path with accept-new: 400 naming the argument; no file written, no folder created', async () => {
    const before = await readFile(tokenFile, 'utf8');
    const newDir = join(dir, 'created-by-attacker');
    for (const path of [tokenFile, join(newDir, 'known_hosts')]) {
      const res = await post(srv, ssh({ knownHosts: path, hostKeyPolicy: 'accept-new' }));
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/^body\.args\.knownHosts: .*not the name of a known_hosts store/);
    }
    expect(await readFile(tokenFile, 'utf8')).toBe(before);
    expect(existsSync(newDir)).toBe(false);
  });

  it('identity as a path: 400 naming the argument, the same answer whether the path exists or not', async () => {
    const existing = await post(srv, ssh({ identity: sim.clientKeyFile }));
    const missing = await post(srv, ssh({ identity: '/nonexistent/id_ed25519' }));
    expect([existing.status, missing.status]).toEqual([400, 400]);
    expect(existing.body.message).toMatch(/^body\.args\.identity: /);
    expect(existing.body.message.replace(sim.clientKeyFile, 'P')).toBe(
      missing.body.message.replace('/nonexistent/id_ed25519', 'P'),
    );
  });

  it("the server's SSH agent is not available through the API", async () => {
    const res = await post(srv, ssh({ agent: true }));
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^body\.args\.agent: not available through the API/);
  });

  it("the server's environment is not available through the API (ssh passphraseEnv)", async () => {
    const res = await post(srv, ssh({ passphraseEnv: 'FLEETPROBE_TOKEN' }));
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^body\.args\.passphraseEnv: not available through the API/);
  });

  it('a ca path, or a knownHosts left out with no "default" store configured: 400 naming the argument', async () => {
    const ca = await post(srv, {
      check: 'http',
      targets: [target],
      args: { scheme: 'https', ca: '/etc/passwd' },
    });
    expect(ca.status).toBe(400);
    expect(ca.body.message).toMatch(/^body\.args\.ca: .*not the name of a CA bundle/);
    const { knownHosts: _, ...noStore } = ssh({}).args;
    const res = await post(srv, { check: 'ssh', targets: [target], args: noStore });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/^body\.args\.knownHosts: required through the API/);
  });

  it('accept-new by name writes the host key into the named store only, and later runs verify against it', async () => {
    const first = await runToEnd(srv, ssh({ hostKeyPolicy: 'accept-new', command: 'echo hi' }));
    expect(first.results.map((r: Json) => r.status)).toEqual(['pass']);
    expect(await readFile(store, 'utf8')).toContain(target);
    const strict = await runToEnd(srv, ssh({ command: 'echo hi' }));
    expect(strict.results.map((r: Json) => r.status)).toEqual(['pass']);
    // The stored run keeps the names the caller gave, never the server's paths.
    expect(strict.run.args).toMatchObject({ identity: 'sim', knownHosts: 'fleet' });
  });
});

describe('fleetprobe server checks its credentials at start', () => {
  it('a missing identity file or a check module named differently is one UsageError naming it', async () => {
    const missing = creds({ sshIdentities: { prod: join(dir, 'nope') } });
    await expect(
      startServer({ db: ':memory:', listen: '127.0.0.1:0', credentials: missing }),
    ).rejects.toThrow(
      expect.objectContaining({
        code: 'FP_USAGE',
        message: expect.stringMatching(/^--ssh-identity prod=.*no such file/),
      }),
    );
    const misnamed = creds({ checkModules: { other: join(FIXTURES, 'relay-check.mjs') } });
    await expect(
      startServer({ db: ':memory:', listen: '127.0.0.1:0', credentials: misnamed }),
    ).rejects.toThrow(
      expect.objectContaining({ code: 'FP_USAGE', message: expect.stringMatching(/named "relay"/) }),
    );
  });
});

describe('file reads are bounded: /dev/zero and a FIFO as a CA bundle are refused at once', () => {
  let srv: TestApi;
  let fifo: string;
  beforeAll(async () => {
    fifo = join(dir, 'ca.fifo');
    execFileSync('mkfifo', [fifo]);
    // Configured names pointing at bad files (a file may become one after start): the read itself refuses.
    srv = await startApi({
      auth: { tokens },
      maxConcurrentRuns: 4,
      credentials: creds({ caBundles: { zero: '/dev/zero', fifo } }),
    });
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('four FIFO runs and a /dev/zero run end with error results; a later run and /healthz still answer', async () => {
    const https = (ca: string) => ({
      check: 'http',
      targets: ['127.66.1.1:9'],
      args: { scheme: 'https', ca },
      timeoutMs: 2000,
    });
    const ran = await Promise.all([
      runToEnd(srv, https('fifo')),
      runToEnd(srv, https('fifo')),
      runToEnd(srv, https('fifo')),
      runToEnd(srv, https('fifo')),
      runToEnd(srv, https('zero')),
    ]);
    for (const { run, results } of ran) {
      expect(run.state).toBe('done');
      expect(results.map((r: Json) => r.status)).toEqual(['error']);
      expect(results[0].message).toMatch(/not a regular file \(a (FIFO|character device)\)/);
    }
    const later = await runToEnd(srv, {
      check: 'tcp',
      targets: ['127.66.1.2'],
      args: { port: 9 },
      timeoutMs: 500,
    });
    expect(later.run.state).toBe('done');
    expect((await api(srv.url, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('user patterns match in linear time (RE2)', () => {
  let srv: TestApi;
  let web: http.Server;
  let port: number;
  beforeAll(async () => {
    srv = await startApi({ auth: { tokens } });
    // A body that makes a backtracking engine try ~2^27 ways of splitting the a's before failing (~20 s).
    web = http.createServer((_req, res) => res.end(`${'a'.repeat(27)}!`));
    await new Promise<void>((r) => web.listen(0, '127.66.2.1', r));
    port = (web.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    await srv?.close();
    await new Promise((r) => web?.close(r));
  });

  it('expectBody "^(a+)+$" fails within the deadline instead of freezing the server', async () => {
    const { results } = await runToEnd(srv, {
      check: 'http',
      targets: [`127.66.2.1:${port}`],
      args: { expectBody: '^(a+)+$' },
      timeoutMs: 2000,
    });
    expect(results.map((r: Json) => r.status)).toEqual(['fail']);
    expect(results[0].message).toMatch(/^body does not match \/\^\(a\+\)\+\$\//);
    expect(results[0].durationMs).toBeLessThan(2000);
  });

  it.each([
    ['http', 'expectBody', '(a)\\1'],
    ['tcp', 'expectBanner', '(?=x)'],
    ['ssh', 'expectStdout', '(?<=x)y'],
    ['dns', 'expect', '/(a)\\1/'],
  ])('%s %s that RE2 refuses -> 400 naming the argument', async (check, arg, pattern) => {
    const res = await post(srv, { check, targets: ['127.66.2.2'], args: { [arg]: pattern } });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(new RegExp(`^body\\.args: .*${arg}: invalid pattern`));
  });
});
