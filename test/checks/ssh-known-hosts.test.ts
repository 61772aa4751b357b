import { createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fingerprintSha256,
  formatKnownHostsLine,
  type KnownHostKey,
  KnownHosts,
  KnownHostsStore,
  knownHostsName,
  matchPattern,
} from '../../src/checks/ssh/index.js';
import { deriveEd25519 } from '../../src/sim/ssh/keys.js';

const keyA: KnownHostKey = { type: 'ssh-ed25519', blob: deriveEd25519(1, 'a').blob };
const keyB: KnownHostKey = { type: 'ssh-ed25519', blob: deriveEd25519(1, 'b').blob };
const b64 = (k: KnownHostKey) => k.blob.toString('base64');

function hashedName(name: string, salt = Buffer.alloc(20, 7)): string {
  const h = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${h.toString('base64')}`;
}

describe('knownHostsName / matchPattern', () => {
  it('brackets non-22 ports and lowercases', () => {
    expect(knownHostsName('Host.Example', 22)).toBe('host.example');
    expect(knownHostsName('127.0.0.5', 2222)).toBe('[127.0.0.5]:2222');
  });

  it('matches * and ? wildcards over the whole name', () => {
    expect(matchPattern('127.20.0.5', '127.*')).toBe(true);
    expect(matchPattern('127.20.0.5', '127.20.0.?')).toBe(true);
    expect(matchPattern('127.20.0.55', '127.20.0.?')).toBe(false);
    expect(matchPattern('[127.1.2.3]:2222', '[127.*]:2222')).toBe(true);
    expect(matchPattern('[127.1.2.3]:2223', '[127.*]:2222')).toBe(false);
    expect(matchPattern('abc', 'a*b*c*')).toBe(true);
    expect(matchPattern('abd', 'a*c')).toBe(false);
  });
});

describe('KnownHosts', () => {
  it('verifies plain, comma-separated and [host]:port entries', () => {
    const kh = KnownHosts.parse(
      [
        '# comment',
        '',
        `web1,10.0.0.1 ssh-ed25519 ${b64(keyA)} comment here`,
        `[127.0.0.5]:2222 ssh-ed25519 ${b64(keyA)}`,
      ].join('\n'),
    );
    expect(kh.verify(['web1'], keyA)).toBe('match');
    expect(kh.verify(['10.0.0.1'], keyA)).toBe('match');
    expect(kh.verify(['web1'], keyB)).toBe('mismatch');
    expect(kh.verify([knownHostsName('127.0.0.5', 2222)], keyA)).toBe('match');
    // Same address on port 22 is a different entry.
    expect(kh.verify([knownHostsName('127.0.0.5', 22)], keyA)).toBe('unknown');
    expect(kh.verify(['web2'], keyA)).toBe('unknown');
  });

  it('matches hashed |1|salt|hash entries (HMAC-SHA1 of the name)', () => {
    const kh = KnownHosts.parse(`${hashedName('[127.0.0.9]:2022')} ssh-ed25519 ${b64(keyA)}\n`);
    expect(kh.verify(['[127.0.0.9]:2022'], keyA)).toBe('match');
    expect(kh.verify(['[127.0.0.9]:2022'], keyB)).toBe('mismatch');
    expect(kh.verify(['127.0.0.9'], keyA)).toBe('unknown');
  });

  it('reads hashed lines it writes itself', () => {
    const kh = KnownHosts.parse(formatKnownHostsLine('127.0.0.7', 2200, keyB, true));
    expect(kh.verify([knownHostsName('127.0.0.7', 2200)], keyB)).toBe('match');
  });

  it('honours negated patterns and wildcards', () => {
    const kh = KnownHosts.parse(`127.*,!127.0.0.66 ssh-ed25519 ${b64(keyA)}\n`);
    expect(kh.verify(['127.3.4.5'], keyA)).toBe('match');
    expect(kh.verify(['127.0.0.66'], keyA)).toBe('unknown');
    expect(kh.verify(['10.0.0.1'], keyA)).toBe('unknown');
  });

  it('treats @revoked keys as refused even when also listed', () => {
    const kh = KnownHosts.parse(
      [
        `@revoked * ssh-ed25519 ${b64(keyB)}`,
        `host1 ssh-ed25519 ${b64(keyB)}`,
        `host1 ssh-ed25519 ${b64(keyA)}`,
      ].join('\n'),
    );
    expect(kh.verify(['host1'], keyB)).toBe('revoked');
    expect(kh.verify(['host1'], keyA)).toBe('match');
  });

  it('ignores @cert-authority lines and counts them; counts malformed lines', () => {
    const kh = KnownHosts.parse(
      [
        `@cert-authority *.example ssh-ed25519 ${b64(keyA)}`,
        'garbage',
        `host1 ssh-rsa ${b64(keyA)}`, // type field does not match the blob
        `host2 ssh-ed25519 ${b64(keyA)}`,
      ].join('\n'),
    );
    expect(kh.ignoredCertAuthorities).toBe(1);
    expect(kh.invalidLines).toBe(2);
    expect(kh.verify(['a.example'], keyA)).toBe('unknown');
    expect(kh.verify(['host2'], keyA)).toBe('match');
  });

  it('lists the key types known for a host', () => {
    const kh = KnownHosts.parse(`h ssh-ed25519 ${b64(keyA)}\n`);
    expect(kh.keysFor(['h']).map((k) => k.type)).toEqual(['ssh-ed25519']);
  });

  it('formats fingerprints as ssh-keygen does (SHA256:, unpadded base64)', () => {
    expect(fingerprintSha256(keyA.blob)).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });
});

describe('KnownHostsStore', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fp-kh-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a missing file as empty and creates it on append', async () => {
    const store = new KnownHostsStore();
    const path = join(dir, 'sub', 'known_hosts');
    const kh = await store.load(path, new AbortController().signal);
    expect(kh.verify(['x'], keyA)).toBe('unknown');
    await store.append(
      path,
      formatKnownHostsLine('x', 22, keyA),
      kh,
      () => kh.verify(['x'], keyA) === 'match',
    );
    expect(await readFile(path, 'utf8')).toBe(`x ssh-ed25519 ${b64(keyA)}\n`);
    expect((await store.load(path, new AbortController().signal)).verify(['x'], keyA)).toBe('match');
  });

  it('serialises concurrent appends and adds each key once', async () => {
    const store = new KnownHostsStore();
    const path = join(dir, 'concurrent');
    await writeFile(path, `old ssh-ed25519 ${b64(keyB)}`); // no trailing newline
    const kh = await store.load(path, new AbortController().signal);
    const names = ['h1', 'h2', 'h1', 'h3', 'h2', 'h1'];
    await Promise.all(
      names.map((n) =>
        store.append(
          path,
          formatKnownHostsLine(n, 2222, keyA),
          kh,
          () => kh.verify([knownHostsName(n, 2222)], keyA) === 'match',
        ),
      ),
    );
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe(`old ssh-ed25519 ${b64(keyB)}`);
    expect(new Set(lines.slice(1).map((l) => l.split(' ')[0]))).toEqual(
      new Set(['[h1]:2222', '[h2]:2222', '[h3]:2222']),
    );
  });

  it('reloads a file changed on disk', async () => {
    const store = new KnownHostsStore();
    const path = join(dir, 'changing');
    await writeFile(path, `h ssh-ed25519 ${b64(keyA)}\n`);
    expect((await store.load(path, new AbortController().signal)).verify(['h'], keyA)).toBe('match');
    await writeFile(path, `h ssh-ed25519 ${b64(keyB)}\n# a longer file so the size differs\n`);
    expect((await store.load(path, new AbortController().signal)).verify(['h'], keyA)).toBe('mismatch');
  });
});
