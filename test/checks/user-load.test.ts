import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { CheckContext } from '../../src/checks/check.js';
import { loadCheckModule } from '../../src/checks/user/index.js';
import { createDeadline } from '../../src/core/deadline.js';
import { UsageError } from '../../src/core/errors.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/user-checks/${name}`, import.meta.url));
const log = pino({ level: 'silent' });
const target = { address: '127.0.0.1', labels: {} };

function context(timeoutMs: number): { ctx: CheckContext; dispose: () => void } {
  const d = createDeadline(timeoutMs);
  const ctx: CheckContext = {
    signal: d.signal,
    deadline: d.at,
    timeoutMs,
    log,
    resolve: async () => [],
  };
  return { ctx, dispose: () => d.dispose() };
}

async function usageError(path: string): Promise<UsageError> {
  const err = await loadCheckModule(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  expect((err as UsageError).code).toBe('FP_USAGE');
  // One line naming the file, whatever the cause.
  expect((err as UsageError).message).not.toContain('\n');
  expect((err as UsageError).message.startsWith(`${path}:`)).toBe(true);
  return err as UsageError;
}

describe('loadCheckModule', () => {
  it('loads a TypeScript module (default export) and runs its check in-process', async () => {
    const check = await loadCheckModule(fixture('good-check.ts'));
    expect(check.name).toBe('good-ts');
    expect(check.timeoutMs).toBe(1000);
    expect(check.isolate).toBeUndefined();
    expect(check.description).toContain('good-check.ts');
    const args = check.args.parse({});
    const { ctx, dispose } = context(1000);
    try {
      await expect(check.run(target, args, ctx)).resolves.toEqual({
        status: 'pass',
        message: 'hello 127.0.0.1',
      });
    } finally {
      dispose();
    }
  });

  it('loads a JavaScript module (named export "check") and validates args with its schema', async () => {
    const check = await loadCheckModule(fixture('good-check.mjs'));
    expect(check.name).toBe('good-js');
    expect(check.description).toBe('a JavaScript check');
    const args = check.args.parse({ n: '0' });
    const { ctx, dispose } = context(500);
    try {
      await expect(check.run(target, args, ctx)).resolves.toEqual({ status: 'fail', message: 'n=0' });
    } finally {
      dispose();
    }
  });

  it('resolves a relative path against the current directory', async () => {
    const rel = 'test/fixtures/user-checks/good-check.ts';
    expect(process.cwd()).toBe(fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, ''));
    const check = await loadCheckModule(rel);
    expect(check.name).toBe('good-ts');
  });

  it('rejects a module without run() with FP_USAGE', async () => {
    await usageError(fixture('no-run.ts'));
  });

  it('rejects a bad check name with FP_USAGE', async () => {
    await usageError(fixture('bad-name.ts'));
  });

  it('rejects `timeout` (no unit) instead of timeoutMs with FP_USAGE', async () => {
    await usageError(fixture('seconds-timeout.ts'));
  });

  it('turns a syntax error into FP_USAGE with the cause kept', async () => {
    // Written at test time: a broken .ts file in the repository would break the typecheck and the linter.
    const dir = await mkdtemp(join(tmpdir(), 'fp-user-check-'));
    try {
      const file = join(dir, 'syntax-error.ts');
      await writeFile(file, "export default { name: 'broken', run( {\n");
      const err = await usageError(file);
      expect(err.cause).toBeDefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('turns a throw at import into FP_USAGE carrying only the first line of the cause', async () => {
    const err = await usageError(fixture('throws-at-import.mjs'));
    expect(err.message).toContain('configuration missing');
    expect((err.cause as Error).message).toContain('second line');
  });

  it('rejects a missing file and a non-module extension with FP_USAGE', async () => {
    await usageError(fixture('does-not-exist.ts'));
    await usageError(fixture('../../checks/user-load.test.ts.txt'));
  });
});
