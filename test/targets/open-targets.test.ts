import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetParseError } from '../../src/core/errors.js';
import {
  openTargets,
  type ResolveFn,
  type Target,
  TargetSourceClosedError,
} from '../../src/targets/index.js';
import { fdsOn } from '../helpers/fds.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fp-targets-open-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function all(iterable: AsyncIterable<Target>): Promise<Target[]> {
  const out: Target[] = [];
  for await (const t of iterable) out.push(t);
  return out;
}

const fakeDns: Record<string, string[] | Error> = {
  'pool.example': ['192.0.2.10', '192.0.2.11', '2001:db8::10'],
  'empty.example': [],
  'broken.example': Object.assign(new Error('queryA ESERVFAIL broken.example'), { code: 'ESERVFAIL' }),
  'gone.example': Object.assign(new Error('queryA ENOTFOUND gone.example'), { code: 'ENOTFOUND' }),
  'garbage.example': ['not-an-ip'],
};
const calls: string[] = [];
const fakeResolve: ResolveFn = async (name, signal) => {
  calls.push(name);
  if (signal.aborted) throw signal.reason;
  const answer = fakeDns[name];
  if (answer === undefined) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  if (answer instanceof Error) throw answer;
  return answer;
};

describe('openTargets', () => {
  it('streams specs, then files, then resolved domains, with an exact total', async () => {
    const txt = await write('a.txt', '10.1.0.1 role=edge\n10.1.0.0/30\n');
    const csv = await write('b.csv', 'address,port\n10.2.0.1,22\n');
    const jsonl = await write('c.jsonl', '{"name":"x.example"}\n');
    const source = await openTargets({
      specs: ['127.0.0.1:8080', '10.0.0.0/8'],
      files: [txt, csv, jsonl],
      resolveDomains: ['pool.example'],
      resolve: fakeResolve,
    });
    try {
      expect(source.total).toBe(1 + 16777216 + 1 + 4 + 1 + 1 + 3);
      // Take the head lazily: the /8 is not materialised.
      const head: Target[] = [];
      for await (const t of source.targets()) {
        head.push(t);
        if (head.length === 3) break;
      }
      expect(head.map((t) => t.address)).toEqual(['127.0.0.1', '10.0.0.0', '10.0.0.1']);
    } finally {
      await source.close();
    }

    const small = await openTargets({
      specs: ['127.0.0.1:8080'],
      files: [txt, csv, jsonl],
      resolveDomains: ['pool.example'],
      resolve: fakeResolve,
    });
    const targets = await all(small.targets());
    expect(targets).toEqual([
      { address: '127.0.0.1', port: 8080, labels: {} },
      { address: '10.1.0.1', labels: { role: 'edge' } },
      { address: '10.1.0.0', labels: {} },
      { address: '10.1.0.1', labels: {} },
      { address: '10.1.0.2', labels: {} },
      { address: '10.1.0.3', labels: {} },
      { address: '10.2.0.1', port: 22, labels: {} },
      { name: 'x.example', labels: {} },
      { address: '192.0.2.10', name: 'pool.example', labels: {} },
      { address: '192.0.2.11', name: 'pool.example', labels: {} },
      { address: '2001:db8::10', name: 'pool.example', labels: {} },
    ]);
    expect(small.total).toBe(targets.length);
    // targets() re-streams: a second pass gives the same sequence.
    expect(await all(small.targets())).toEqual(targets);
    await small.close();
    await small.close();
    await expect(small.targets().next()).rejects.toBeInstanceOf(TargetSourceClosedError);
  });

  it('names the argument of a bad spec', async () => {
    await expect(openTargets({ specs: ['10.0.0.1', 'a.example', '10.0.0.300'] })).rejects.toMatchObject({
      code: 'FP_BAD_TARGET',
      where: 'argument 3',
    });
  });

  it('total is undefined when it exceeds 2^53', async () => {
    const source = await openTargets({ specs: ['2001:db8::/64'] });
    expect(source.total).toBeUndefined();
    await source.close();
  });

  it('breaking out of targets() closes the file', async () => {
    const path = await write(
      'big.txt',
      Array.from({ length: 20_000 }, (_, i) => `10.3.${i >> 8}.${i & 255}`).join('\n'),
    );
    const source = await openTargets({ files: [path] });
    expect(source.total).toBe(20_000);
    expect(await fdsOn(path)).toBe(0); // validation closed its pass
    let n = 0;
    for await (const _ of source.targets()) {
      if (++n === 1) expect(await fdsOn(path)).toBe(1);
      if (n === 10) break;
    }
    expect(await fdsOn(path)).toBe(0);
    await source.close();
  });

  it('validation rejects with the signal reason when aborted', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(openTargets({ specs: ['10.0.0.1'], signal: controller.signal })).rejects.toBe(reason);
  });

  it('iteration stops with the signal reason', async () => {
    const controller = new AbortController();
    const source = await openTargets({ specs: ['10.0.0.0/16'] });
    const reason = new Error('enough');
    let n = 0;
    await expect(
      (async () => {
        for await (const _ of source.targets(controller.signal)) {
          if (++n === 100) controller.abort(reason);
        }
      })(),
    ).rejects.toBe(reason);
    expect(n).toBe(100);
    await source.close();
  });
});

describe('openTargets: stdin', () => {
  it('spools stdin as text, names errors stdin:N and deletes the spool on close', async () => {
    const spool = await mkdtemp(join(dir, 'spool-'));
    const source = await openTargets({
      files: ['-'],
      stdin: Readable.from(['10.0.0.1 a=1\n', '# c\n', 'h.example:22\n']),
      tmpDir: spool,
    });
    expect(source.total).toBe(2);
    expect((await readdir(spool)).length).toBe(1);
    expect(await all(source.targets())).toEqual([
      { address: '10.0.0.1', labels: { a: '1' } },
      { name: 'h.example', port: 22, labels: {} },
    ]);
    await source.close();
    expect(await readdir(spool)).toEqual([]);

    const err = await openTargets({
      files: ['-'],
      stdin: Readable.from(['10.0.0.1\n', '\n', 'bad host\n']),
      tmpDir: spool,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetParseError);
    expect((err as TargetParseError).where).toBe('stdin:3');
    expect((err as TargetParseError).message.startsWith('stdin:3: ')).toBe(true);
    // A failed validation deletes its spool too.
    expect(await readdir(spool)).toEqual([]);
  });

  it('sniffs JSON lines on stdin', async () => {
    const spool = await mkdtemp(join(dir, 'spool-'));
    const source = await openTargets({
      files: ['-'],
      stdin: Readable.from(['\n  {"address":"10.0.0.7","labels":{"x":"y"}}\n{"name":"n.example"}\n']),
      tmpDir: spool,
    });
    expect(await all(source.targets())).toEqual([
      { address: '10.0.0.7', labels: { x: 'y' } },
      { name: 'n.example', labels: {} },
    ]);
    await source.close();
    expect(await readdir(spool)).toEqual([]);
  });
});

describe('openTargets: --resolve', () => {
  it('adds the records of each domain, resolved in parallel', async () => {
    calls.length = 0;
    const source = await openTargets({
      resolveDomains: ['pool.example', 'Pool.Example'],
      resolve: fakeResolve,
    });
    expect(calls).toEqual(['pool.example', 'pool.example']);
    expect(source.total).toBe(6);
    const targets = await all(source.targets());
    expect(targets.every((t) => t.name === 'pool.example')).toBe(true);
    await source.close();
  });

  it.each([
    ['empty.example', undefined],
    ['broken.example', 'ESERVFAIL'],
    ['gone.example', 'ENOTFOUND'],
    ['garbage.example', undefined],
    ['bad_domain', undefined],
  ])('%s is a TargetParseError naming the domain', async (domain, causeCode) => {
    const err = await openTargets({
      specs: ['10.0.0.1'],
      resolveDomains: ['pool.example', domain],
      resolve: fakeResolve,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetParseError);
    expect((err as TargetParseError).where).toBe(`--resolve ${domain}`);
    if (causeCode) expect(((err as TargetParseError).cause as { code?: string }).code).toBe(causeCode);
  });

  it('a failure aborts the other lookups and is the one reported', async () => {
    let hangingSawAbort = false;
    const resolve: ResolveFn = (name, signal) => {
      if (name === 'fails.example') return Promise.resolve([]);
      return new Promise((_, reject) => {
        signal.addEventListener('abort', () => {
          hangingSawAbort = true;
          reject(Object.assign(new Error('ECANCELLED'), { code: 'ECANCELLED' }));
        });
      });
    };
    const err = await openTargets({ resolveDomains: ['hangs.example', 'fails.example'], resolve }).catch(
      (e: unknown) => e,
    );
    expect(hangingSawAbort).toBe(true);
    expect((err as TargetParseError).where).toBe('--resolve fails.example');
  });

  it('the caller signal cancels lookups and rejects with its reason', async () => {
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const resolve: ResolveFn = (_name, signal) =>
      new Promise((_, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason));
        controller.abort(reason);
      });
    await expect(
      openTargets({ resolveDomains: ['a.example'], resolve, signal: controller.signal }),
    ).rejects.toBe(reason);
  });
});
