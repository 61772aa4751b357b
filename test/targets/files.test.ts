import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetParseError } from '../../src/core/errors.js';
import { formatOfPath } from '../../src/targets/formats.js';
import { openTargets, readTargetFile, type Target } from '../../src/targets/index.js';
import { batchTargets, entryBatches } from '../../src/targets/target-batches.js';
import { fdsOn } from '../helpers/fds.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fp-targets-files-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function write(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function collect(path: string): Promise<Target[]> {
  const out: Target[] = [];
  for await (const entries of readTargetFile({ path, display: path, format: formatOfPath(path) })) {
    for (const batch of entryBatches(entries)) out.push(...batchTargets(batch));
  }
  return out;
}

async function parseError(path: string): Promise<TargetParseError> {
  try {
    await collect(path);
  } catch (err) {
    expect(err).toBeInstanceOf(TargetParseError);
    return err as TargetParseError;
  }
  throw new Error(`expected ${path} to be rejected`);
}

describe('text files', () => {
  it('reads specs, comments, blank lines, labels and CRLF', async () => {
    const path = await write(
      'a.txt',
      '\uFEFF# fleet\r\n10.0.0.1 region=eu role=edge\r\n\r\n  host.example:22   # ssh box\n192.0.2.0/31 dc=x\n[2001:db8::1]:8443 k=a=b\n',
    );
    const targets = await collect(path);
    expect(targets).toEqual([
      { address: '10.0.0.1', labels: { region: 'eu', role: 'edge' } },
      { name: 'host.example', port: 22, labels: {} },
      { address: '192.0.2.0', labels: { dc: 'x' } },
      { address: '192.0.2.1', labels: { dc: 'x' } },
      { address: '2001:db8::1', port: 8443, labels: { k: 'a=b' } },
    ]);
    expect(Object.isFrozen(targets[0]!.labels)).toBe(true);
    // Every address of a block shares one labels object.
    expect(targets[2]!.labels).toBe(targets[3]!.labels);
  });

  it.each([
    ['10.0.0.1\n10.0.0.2\n\n# c\n10.0.0.300\n', 5, '10.0.0.300'],
    ['10.0.0.1\n10.0.0.2:99999\n', 2, '99999'],
    ['10.0.0.1 region\n', 1, 'region'],
    ['10.0.0.1 a=1 a=2\n', 1, 'a'],
    ['10.0.0.1 b@d=1\n', 1, 'b@d'],
  ])('names file and line of a bad entry (%#)', async (text, line, mention) => {
    const path = await write('bad.txt', text);
    const err = await parseError(path);
    expect(err.code).toBe('FP_BAD_TARGET');
    expect(err.where).toBe(`${path}:${line}`);
    expect(err.message.startsWith(`${path}:${line}: `)).toBe(true);
    expect(err.message).toContain(mention);
  });

  it('validation counts plain name lines without parsing them, and names the same file:line', async () => {
    const path = await write(
      'names.txt',
      'n1.bench.test\nN2.Bench.Test\nn3.bench.test.\n# c\n10.0.0.0/30\n n4.bench.test \nn5.bench.test:53\n',
    );
    const source = await openTargets({ files: [path] });
    expect(source.total).toBe(9);
    const targets: Target[] = [];
    for await (const t of source.targets()) targets.push(t);
    await source.close();
    expect(targets.filter((t) => t.name !== undefined)).toEqual([
      { name: 'n1.bench.test', labels: {} },
      { name: 'n2.bench.test', labels: {} },
      { name: 'n3.bench.test.', labels: {} },
      { name: 'n4.bench.test', labels: {} },
      { name: 'n5.bench.test', port: 53, labels: {} },
    ]);
    const bad = await write('bad-names.txt', 'n1.bench.test\nn_2.bench.test\n');
    await expect(openTargets({ files: [bad] })).rejects.toMatchObject({ where: `${bad}:2` });
  });

  it('a missing file is a TargetParseError naming the file', async () => {
    const path = join(dir, 'nope.txt');
    const err = await parseError(path);
    expect(err.where).toBe(path);
    expect((err.cause as { code?: string }).code).toBe('ENOENT');
  });

  it('a directory is a TargetParseError naming it', async () => {
    const err = await parseError(dir);
    expect(err.where).toBe(dir);
    expect(await fdsOn(dir)).toBe(0);
  });

  it('breaking out closes the file', async () => {
    const path = await write(
      'many.txt',
      Array.from({ length: 50_000 }, (_, i) => `10.1.${i >> 8}.${i & 255}`).join('\n'),
    );
    let seen = 0;
    for await (const entries of readTargetFile({ path, display: 'many.txt', format: 'txt' })) {
      expect(entries[0]?.kind).toBe('target');
      expect(entries.length).toBeLessThan(50_000); // a batch per chunk read, not the whole file
      expect(await fdsOn(path)).toBe(1);
      if (++seen === 1) break;
    }
    expect(seen).toBe(1);
    expect(await fdsOn(path)).toBe(0);
  });
});

describe('csv files', () => {
  it('reads columns in any order, quoting, labels and extra columns as labels', async () => {
    const path = await write(
      'hosts.csv',
      [
        'name,Address,port,labels,region',
        'web1.example,10.0.0.1,443,"role=web;tier=1",eu',
        ',10.0.0.2,,,',
        'db.example,,5432,role=db,"us, east"',
        '"" , "192.0.2.0/31" ,22, "a=""x""" ,',
        ',host.example:2222,,,',
        '',
      ].join('\n'),
    );
    expect(await collect(path)).toEqual([
      {
        address: '10.0.0.1',
        name: 'web1.example',
        port: 443,
        labels: { region: 'eu', role: 'web', tier: '1' },
      },
      { address: '10.0.0.2', labels: {} },
      { name: 'db.example', port: 5432, labels: { region: 'us, east', role: 'db' } },
      { address: '192.0.2.0', port: 22, labels: { a: '"x"' } },
      { address: '192.0.2.1', port: 22, labels: { a: '"x"' } },
      { name: 'host.example', port: 2222, labels: {} },
    ]);
  });

  it.each([
    ['address,name\n10.0.0.1,a.example\n10.0.0.2\n', 3, 'expected 2 fields'],
    ['address,port\n10.0.0.1,70000\n', 2, '70000'],
    ['address,port\n10.0.0.1:22,22\n', 2, 'port'],
    ['address\n"10.0.0.1\n', 2, 'quoted'],
    ['address\n"10.0.0.1"x\n', 2, 'x'],
    ['port,labels\n22,a=b\n', 1, 'address'],
    ['address,name\n,\n', 2, 'address'],
    ['address,name\nweb.example,other.example\n', 2, 'web.example'],
    ['address,labels\n10.0.0.1,novalue\n', 2, 'novalue'],
    ['address,name,name\n', 1, 'name'],
    ['address,name\n10.0.0.1,bad_name\n', 2, 'bad_name'],
    ['address,name\n10.0.0.0/30,n.example\n', 2, '10.0.0.0/30'],
  ])('names file and line of a bad row (%#)', async (text, line, mention) => {
    const path = await write('bad.csv', text);
    const err = await parseError(path);
    expect(err.where).toBe(`${path}:${line}`);
    expect(err.message.startsWith(`${path}:${line}: `)).toBe(true);
    expect(err.message).toContain(mention);
  });
});

describe('jsonl files', () => {
  it('reads objects with labels', async () => {
    const path = await write(
      'hosts.jsonl',
      [
        '{"address":"10.0.0.1","port":22,"labels":{"region":"eu","weight":3,"on":true}}',
        '',
        '{"name":"Web.Example","port":"8080"}',
        '{"address":"2001:db8::/127","labels":null}',
        '{"address":"10.0.0.9","name":"nine.example"}',
      ].join('\n'),
    );
    expect(await collect(path)).toEqual([
      { address: '10.0.0.1', port: 22, labels: { region: 'eu', weight: '3', on: 'true' } },
      { name: 'web.example', port: 8080, labels: {} },
      { address: '2001:db8::', labels: {} },
      { address: '2001:db8::1', labels: {} },
      { address: '10.0.0.9', name: 'nine.example', labels: {} },
    ]);
  });

  it.each([
    ['{"address":"10.0.0.1"}\n{"address":"10.0.0.1"\n', 2, 'JSON'],
    ['[1,2]\n', 1, 'object'],
    ['{"adress":"10.0.0.1"}\n', 1, 'adress'],
    ['{"address":10}\n', 1, 'address'],
    ['{"address":"10.0.0.1","port":0}\n', 1, 'port'],
    ['{"address":"10.0.0.1","port":true}\n', 1, 'port'],
    ['{"address":"10.0.0.1","labels":{"a":{}}}\n', 1, 'a'],
    ['{}\n', 1, 'address'],
    ['{"address":"10.0.0.256"}\n', 1, '10.0.0.256'],
  ])('names file and line of a bad object (%#)', async (text, line, mention) => {
    const path = await write('bad.jsonl', text);
    const err = await parseError(path);
    expect(err.where).toBe(`${path}:${line}`);
    expect(err.message).toContain(mention);
  });
});

describe('openTargets with files', () => {
  it('validates every file before streaming and reports the first bad line', async () => {
    const good = await write('good.txt', '10.0.0.1\n10.0.0.2\n');
    const badFile = await write('bad17.txt', `${'10.0.0.1\n'.repeat(16)}10.0.0.999\n10.0.0.1\n`);
    await expect(openTargets({ specs: ['10.0.0.5'], files: [good, badFile] })).rejects.toMatchObject({
      code: 'FP_BAD_TARGET',
      where: `${badFile}:17`,
    });
  });
});
