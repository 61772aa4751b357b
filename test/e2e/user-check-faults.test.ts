import { beforeAll, describe, expect, it } from 'vitest';
import { type CliRun, ensureBuilt, jsonLines, lines, type StartOptions, startCli } from './cli.js';

/**
 * Issue 13 item 6: an in-process user check (`--check-module` without `isolate: 'thread'`) cannot take the
 * run down. Every case goes through the real CLI; the fixture misbehaves as `mode` says.
 */
const MODULE = 'test/fixtures/user-checks/misbehaving.mjs';
const TARGETS = ['127.0.0.1', '127.0.0.2', '127.0.0.3'];

beforeAll(() => ensureBuilt());

/** Runs the CLI; a process still running after `boundMs` fails the test and is killed (never left behind). */
async function runCli(args: string[], options: StartOptions = {}, boundMs = 20_000): Promise<CliRun> {
  const cli = startCli(args, options);
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`still running after ${boundMs} ms: ${cli.stderr()}`)),
      boundMs,
    );
  });
  try {
    return await Promise.race([cli.done, bound]);
  } finally {
    clearTimeout(timer);
    cli.child.kill('SIGKILL');
  }
}

const run = (mode: string) =>
  runCli(['run', 'misbehaving', ...TARGETS, '--check-module', MODULE, '-a', `mode=${mode}`, '-o', 'jsonl']);

interface Line {
  target: string;
  status: string;
  message: string;
}

describe('in-process user checks that misbehave still give one result per target', () => {
  it('a check that never settles and ignores its signal yields timeout on time', async () => {
    const r = await run('never-settle');
    const results = jsonLines<Line & { durationMs: number }>(r.stdout);
    expect(r.code).toBe(1);
    expect(results.map((x) => x.target).sort()).toEqual(TARGETS);
    for (const x of results) {
      expect(x.status).toBe('timeout');
      // 500 ms deadline + 250 ms settle grace; generous bound for a busy machine.
      expect(x.durationMs).toBeLessThan(10_000);
    }
  });

  it('a leaked unhandled rejection becomes that target’s error, not exit 1 with 0 results', async () => {
    const r = await run('leak-rejection');
    const results = jsonLines<Line>(r.stdout);
    expect(r.code).toBe(1);
    expect(results).toHaveLength(TARGETS.length);
    for (const x of results) {
      expect(x.status).toBe('error');
      // Attributed to the right target: the fixture names its own target in the rejection.
      expect(x.message).toContain(`unhandled rejection: leaked from ${x.target}`);
    }
  });

  it('a rejection leaked after the result is reported on stderr and the run completes', async () => {
    const r = await run('leak-after-result');
    const results = jsonLines<Line>(r.stdout);
    expect(results.map((x) => x.status)).toEqual(['pass', 'pass', 'pass']);
    expect(r.stderr).toContain('after its result: unhandled rejection: leaked late');
  });

  it.each([
    ['exit', 'check called process.exit(0)'],
    ['exit-in-callback', 'check called process.exit(3)'],
    ['throw-in-callback', 'uncaught exception: thrown from a timer'],
  ])('%s: process.exit() or a throw in user code becomes that target’s error', async (mode, message) => {
    const r = await run(mode);
    const results = jsonLines<Line>(r.stdout);
    expect(r.code).toBe(1);
    expect(results).toHaveLength(TARGETS.length);
    for (const x of results) {
      expect(x.status).toBe('error');
      expect(x.message).toContain(message);
    }
  });

  it('a malformed observation becomes error naming the bad fields; the summary counts it', async () => {
    const r = await run('bad-observation');
    const results = jsonLines<Line>(r.stdout);
    expect(r.code).toBe(1);
    for (const x of results) {
      expect(x.status).toBe('error');
      expect(x.message).toContain('FP_BAD_OBSERVATION');
      expect(x.message).toContain('status');
      expect(x.message).toContain('"weird"');
      expect(x.message).toContain('message');
    }
    expect(r.stderr).not.toContain('NaN');
    expect(r.stderr).toContain('3 targets');
    expect(r.stderr).toContain('3 error');
  });

  it('a check that blocks synchronously 1.5 s against a 500 ms deadline is timeout, not pass', async () => {
    const r = await runCli([
      'run',
      'misbehaving',
      '127.0.0.1',
      '--check-module',
      MODULE,
      '-a',
      'mode=block-1500ms',
      '-o',
      'jsonl',
    ]);
    const [x] = jsonLines<Line>(r.stdout);
    expect(r.code).toBe(1);
    expect(x?.status).toBe('timeout');
    expect(x?.message).toContain('after its deadline');
  });

  it('a busy loop does not survive SIGTERM: the watchdog ends the process with one clear line', async () => {
    const cli = startCli([
      'run',
      'misbehaving',
      '127.0.0.1',
      '--check-module',
      MODULE,
      '-a',
      'mode=spin',
      '-o',
      'jsonl',
    ]);
    try {
      // Handshake: the fixture writes this line synchronously just before it starts spinning.
      await new Promise<void>((resolve, reject) => {
        const onData = () => {
          if (cli.stderr().includes('spinning on 127.0.0.1')) resolve();
        };
        cli.child.stderr?.on('data', onData);
        cli.done.then(() => reject(new Error(`exited before spinning: ${cli.stderr()}`)), reject);
      });
      cli.child.kill('SIGTERM');
      const bound = new Promise<'still running'>((resolve) => setTimeout(resolve, 25_000, 'still running'));
      const r = await Promise.race([cli.done, bound]);
      expect(r).not.toBe('still running');
      if (r === 'still running') return;
      expect(r.code === 0).toBe(false);
      expect(r.stderr).toContain('has blocked the event loop');
      expect(r.stderr).toContain("isolate: 'thread'");
    } finally {
      cli.child.kill('SIGKILL');
    }
  }, 40_000);
});

describe('a user module that never finishes loading', () => {
  it('a top-level await that can never settle: exit 2, one line naming the module', async () => {
    const file = 'test/fixtures/user-checks/tla-never-settles.mjs';
    const r = await runCli(['run', 'x', '127.0.0.1', '--check-module', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(lines(r.stderr)).toEqual([
      `fleetprobe: ${file}: module never finishes loading (its top-level await never settles)`,
    ]);
  });

  it('a top-level await waiting on a live handle: exit 2 at the import deadline', async () => {
    const file = 'test/fixtures/user-checks/tla-waits-forever.mjs';
    const r = await runCli(['run', 'x', '127.0.0.1', '--check-module', file], {
      env: { FLEETPROBE_IMPORT_TIMEOUT_MS: '1000' },
    });
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([`fleetprobe: ${file}: module did not finish loading within 1000 ms`]);
  });
});
