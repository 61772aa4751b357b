import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, type CliRun, ensureBuilt, jsonLines, ROOT } from './cli.js';

/**
 * Issue 12: the user-check example of examples/README.md, verbatim, in a directory outside the
 * repository with no node_modules: `import { defineCheck } from 'fleetprobe'` and `import { z } from 'zod'`
 * must resolve (they used to fail with `Cannot find module 'fleetprobe'`).
 */
let dir: string;
let example: string;

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'fp-user-check-'));
  const readme = await readFile(path.join(ROOT, 'examples', 'README.md'), 'utf8');
  const block = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!block?.[1]) throw new Error('examples/README.md has no ```ts block');
  example = block[1];
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The built CLI with `cwd` as its working directory, like a user in their own project. */
function cliIn(cwd: string, args: readonly string[]): Promise<CliRun> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, wallMs: performance.now() - t0 }),
    );
  });
}

describe('a user check outside the repository', () => {
  const cases = [
    { what: 'the README example verbatim (isolate: thread)', sub: 'bare', pkg: undefined, strip: false },
    { what: 'in the main thread', sub: 'main-thread', pkg: undefined, strip: true },
    {
      what: 'in a project whose package.json has no type',
      sub: 'project',
      pkg: { name: 'mine' },
      strip: true,
    },
  ];
  for (const c of cases) {
    it(`resolves 'fleetprobe' and 'zod': ${c.what}`, async () => {
      const where = path.join(dir, c.sub);
      await rm(where, { recursive: true, force: true });
      await import('node:fs/promises').then((fs) => fs.mkdir(where, { recursive: true }));
      if (c.pkg) await writeFile(path.join(where, 'package.json'), JSON.stringify(c.pkg));
      const source = c.strip ? example.replace(/^\s*isolate: 'thread'.*\n/m, '') : example;
      await writeFile(path.join(where, 'my-check.ts'), source);
      // The command line of examples/README.md, verbatim (the target needs no listener: run() passes).
      const r = await cliIn(where, [
        ...'run my-check 127.0.0.1 --check-module ./my-check.ts -a port=9000'.split(' '),
        '-o',
        'jsonl',
      ]);
      expect(r.stderr).not.toContain('Cannot find module');
      expect(r.code).toBe(0);
      expect(jsonLines(r.stdout)).toMatchObject([
        { check: 'my-check', port: 9000, status: 'pass', message: 'all good', data: { anything: 1 } },
      ]);
    }, 60_000);
  }
});
