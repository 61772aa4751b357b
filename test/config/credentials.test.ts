import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  addCredentialFlag,
  checkCredentialFiles,
  credentialPath,
  emptyCredentials,
} from '../../src/config/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fp-credentials-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('named credentials from flags', () => {
  it('name=path, the path resolved against the current directory', () => {
    let creds = addCredentialFlag(emptyCredentials(), 'sshIdentities', 'prod=keys/id_ed25519');
    creds = addCredentialFlag(creds, 'sshIdentities', 'staging=/etc/fp/id=2');
    expect(creds.sshIdentities).toEqual({
      prod: resolve(process.cwd(), 'keys/id_ed25519'),
      staging: '/etc/fp/id=2',
    });
    expect(credentialPath(creds, 'sshIdentities', 'constructor')).toBeUndefined();
  });

  it.each([
    ['no "="', 'prod', /expected name=path/],
    ['an empty path', 'prod=', /expected name=path/],
    ['a name that looks like a path', '/etc/x=/etc/x', /bad name/],
    ['an empty name', '=/etc/x', /bad name/],
  ])('refuses %s with a UsageError naming the flag', (_what, value, message) => {
    expect(() => addCredentialFlag(emptyCredentials(), 'caBundles', value)).toThrow(
      expect.objectContaining({ code: 'FP_USAGE', message: expect.stringMatching(/^--ca /) }),
    );
    expect(() => addCredentialFlag(emptyCredentials(), 'caBundles', value)).toThrow(message);
  });

  it('refuses a name given twice', () => {
    const once = addCredentialFlag(emptyCredentials(), 'knownHosts', 'a=/x');
    expect(() => addCredentialFlag(once, 'knownHosts', 'a=/y')).toThrow(/given twice/);
  });
});

describe('checkCredentialFiles', () => {
  it('accepts existing files and a known_hosts store that does not exist yet in an existing folder', async () => {
    const key = join(dir, 'id');
    await writeFile(key, 'x');
    await checkCredentialFiles({
      ...emptyCredentials(),
      sshIdentities: { prod: key },
      knownHosts: { default: join(dir, 'known_hosts') },
    });
  });

  it.each([
    [
      'a missing identity',
      { sshIdentities: { prod: '/nonexistent/id' } },
      /^--ssh-identity prod=.*no such file/,
    ],
    ['a CA that is a device', { caBundles: { zero: '/dev/zero' } }, /^--ca zero=.*not a regular file/],
    [
      'a known_hosts store in a missing folder',
      { knownHosts: { k: '/nonexistent/dir/known_hosts' } },
      /^--known-hosts k=.*directory \/nonexistent\/dir does not exist/,
    ],
  ])('refuses %s with one line naming it', async (_what, some, message) => {
    await expect(checkCredentialFiles({ ...emptyCredentials(), ...some })).rejects.toThrow(message);
  });
});
