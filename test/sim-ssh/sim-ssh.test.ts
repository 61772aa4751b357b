import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveEd25519, parseSimCommand, startSimSshServer } from '../../src/sim/ssh/index.js';
import { runSsh } from './run-ssh.js';
import { tinyFleet } from './tiny-model.js';

describe('parseSimCommand', () => {
  it.each([
    ['true', '', 0],
    ['false', '', 1],
    ['echo hello  "big world"', 'hello big world\n', 0],
    ['uname -a', 'Linux h4 6.1.0-sim x86_64 GNU/Linux\n', 0],
    ['exit 3', '', 3],
    ['exit 300', '', 44],
    ['cat /etc/hostname', 'h4\n', 0],
    ["/bin/sh -c 'echo wrapped'", 'wrapped\n', 0],
    ['rm -rf /', '', 127],
  ])('%s', (line, stdout, exitCode) => {
    expect(parseSimCommand(line, 4)).toMatchObject({ kind: 'run', stdout, exitCode });
  });

  it('sleep N becomes a timer, capped at an hour', () => {
    expect(parseSimCommand('sleep 2.5', 0)).toEqual({ kind: 'sleep', ms: 2500 });
    expect(parseSimCommand('sleep 99999', 0)).toEqual({ kind: 'sleep', ms: 3_600_000 });
  });
});

describe('deriveEd25519', () => {
  it('is deterministic per (seed, label) and distinct otherwise', () => {
    expect(deriveEd25519(1, 'host-3').blob.equals(deriveEd25519(1, 'host-3').blob)).toBe(true);
    expect(deriveEd25519(1, 'host-3').blob.equals(deriveEd25519(2, 'host-3').blob)).toBe(false);
    expect(deriveEd25519(1, 'host-3').blob.equals(deriveEd25519(1, 'host-4').blob)).toBe(false);
  });
});

describe('startSimSshServer in fleet-key mode', () => {
  const model = tinyFleet(['healthy', 'wrong-host-key']);
  let dir: string;
  let sim: Awaited<ReturnType<typeof startSimSshServer>>;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fp-sim-ssh-'));
    sim = await startSimSshServer(model, { stateDir: dir, hostKeys: 'fleet' });
  });
  afterAll(async () => {
    await sim?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a 0600 client key and a one-line wildcard known_hosts that strict checking accepts', async () => {
    expect((await stat(sim.clientKeyFile)).mode & 0o777).toBe(0o600);
    const kh = await readFile(sim.knownHostsFile, 'utf8');
    expect(
      kh
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('#')),
    ).toHaveLength(1);
    const base = { identity: sim.clientKeyFile, knownHosts: sim.knownHostsFile, port: sim.port };
    const ok = await runSsh(model.host(0).address, {
      ...base,
      command: 'uname -a',
      expectStdout: '^Linux h0 ',
    });
    expect(ok.status).toBe('pass');
    const wrong = await runSsh(model.host(1).address, base);
    expect(wrong.status).toBe('error');
    expect(wrong.data?.reason).toBe('host-key');
  });

  it('closes idempotently with nothing left open', async () => {
    await Promise.all([sim.close(), sim.close()]);
    expect(sim.openSockets()).toBe(0);
  });
});
