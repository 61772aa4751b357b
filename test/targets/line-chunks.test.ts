import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TargetParseError } from '../../src/core/errors.js';
import { openTargets, type Target } from '../../src/targets/index.js';
import { CHUNK_BYTES, readLineChunks } from '../../src/targets/line-chunks.js';
import {
  batchTargets,
  TARGET_BATCHES,
  type TargetBatch,
  targetBatches,
} from '../../src/targets/target-batches.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fp-line-chunks-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function linesOf(name: string, data: string | Buffer): Promise<string[]> {
  const path = join(dir, name);
  await writeFile(path, data);
  const handle = await open(path, 'r');
  try {
    const out: string[] = [];
    for await (const lines of readLineChunks(handle)) out.push(...lines);
    return out;
  } finally {
    await handle.close();
  }
}

async function readlineLines(data: string | Buffer): Promise<string[]> {
  const out: string[] = [];
  const rl = createInterface({
    input: Readable.from([Buffer.from(data)]),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of rl) out.push(line);
  return out;
}

describe('readLineChunks', () => {
  it('splits lines as readline does: LF, CRLF, lone CR, blank lines, no empty last line', async () => {
    for (const text of ['', '\n', 'a', 'a\n', 'a\r\nb\rc\n\nd', 'a\r\r\nb\r', '\n\n x \n', 'é\r\n€\n']) {
      expect(await linesOf('small.txt', text)).toEqual(await readlineLines(text));
    }
  });

  it('joins lines, CRLF and UTF-8 characters cut by a chunk boundary', async () => {
    const pad = 'x'.repeat(CHUNK_BYTES - 1);
    const cases = [
      `${pad}\r\nnext\n`, // CR the last byte of a chunk, its LF the first of the next
      `${pad}\rnext\n`, // a lone CR at the boundary
      `${pad.slice(1)}é€end\nnext`, // multi-byte characters across the boundary
      `${'ab\n'.repeat(CHUNK_BYTES)}last`, // many chunks, a line cut at each boundary
    ];
    for (const text of cases) expect(await linesOf('big.txt', text)).toEqual(await readlineLines(text));
  });
});

describe('targets files read in chunks', () => {
  it('names the line of an error in a later chunk', async () => {
    const path = join(dir, 'late-error.txt');
    const good = Array.from({ length: 30_000 }, (_, i) => `n${i}.bench.test`);
    await writeFile(path, `${good.join('\r\n')}\r\n# comment\n\nbad_name\n`);
    const err = await openTargets({ files: [path] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetParseError);
    expect((err as TargetParseError).message).toContain(`${path}:30003`);
  });

  it('batches give the targets of the stream itself, blocks expanded in order', async () => {
    const path = join(dir, 'mixed.txt');
    const lines = ['10.9.0.0/20 role=edge', 'a.example:22', '10.0.0.1', '2001:db8::/126'];
    for (let i = 0; i < 20_000; i++) lines.push(`h${i}.example region=eu`);
    // Plain names travel as names, between and after other entries.
    for (let i = 0; i < 20_000; i++) lines.push(i === 7 ? '10.0.0.2' : `N${i}.Bench.Test`);
    await writeFile(path, `${lines.join('\n')}\n`);
    const source = await openTargets({ specs: ['10.1.0.0/30'], files: [path] });
    try {
      const each: Target[] = [];
      for await (const t of source.targets()) each.push(t);
      const batched: Target[] = [];
      let nameBatches = 0;
      for await (const batch of source.targets()[TARGET_BATCHES]()) {
        if ('kind' in batch) nameBatches++;
        batched.push(...batchTargets(batch));
      }
      expect(batched).toEqual(each);
      expect(nameBatches).toBeGreaterThan(1);
      expect(each.at(-1)).toEqual({ name: 'n19999.bench.test', labels: {} });
      expect(each.length).toBe(source.total);
      expect(each.slice(0, 6).map((t) => t.address)).toEqual([
        '10.1.0.0',
        '10.1.0.1',
        '10.1.0.2',
        '10.1.0.3',
        '10.9.0.0',
        '10.9.0.1',
      ]);
    } finally {
      await source.close();
    }
  });

  it('targetBatches of a plain async iterable gives one target per batch', async () => {
    async function* plain() {
      yield { address: '10.0.0.1', labels: {} };
      yield { name: 'a.example', labels: {} };
    }
    const out: TargetBatch[] = [];
    for await (const batch of targetBatches(plain())) out.push(batch);
    expect(out).toEqual([[{ address: '10.0.0.1', labels: {} }], [{ name: 'a.example', labels: {} }]]);
  });
});
