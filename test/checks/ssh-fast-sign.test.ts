import ssh2, { type ParsedKey } from 'ssh2';
import { describe, expect, it } from 'vitest';
import { installFastVerify, withFastSign } from '../../src/checks/ssh/fast-sign.js';

function parse(text: string): ParsedKey {
  const k = ssh2.utils.parseKey(text);
  if (k instanceof Error) throw k;
  return Array.isArray(k) ? k[0]! : k;
}

describe('withFastSign', () => {
  it.each([
    ['ed25519', {}, [undefined]],
    ['ecdsa', { bits: 256 }, [undefined]],
    ['rsa', { bits: 2048 }, [undefined, 'sha256', 'sha512']],
  ] as const)('%s: signatures from the cached KeyObject verify like ssh2 own', (type, opts, algos) => {
    const pair = ssh2.utils.generateKeyPairSync(type as 'ed25519', opts as never);
    const plain = parse(pair.private);
    const fast = withFastSign(parse(pair.private));
    const pub = parse(pair.public);
    const data = Buffer.from('exchange hash');
    for (const algo of algos) {
      const a = fast.sign(data, algo);
      const b = plain.sign(data, algo);
      expect(a).toBeInstanceOf(Buffer);
      expect(pub.verify(data, a, algo)).toBe(true);
      // Deterministic schemes give identical bytes (ECDSA signatures are randomised).
      if (type !== 'ecdsa') expect(a.equals(b)).toBe(true);
    }
  });
});

describe('installFastVerify', () => {
  it('verifies ed25519 signatures as before: good -> true, tampered data or signature -> false', () => {
    const pair = ssh2.utils.generateKeyPairSync('ed25519');
    const priv = parse(pair.private);
    const data = Buffer.from('exchange hash');
    const sig = priv.sign(data) as Buffer;
    installFastVerify();
    const pub = parse(pair.public);
    expect(pub.verify(data, sig)).toBe(true);
    expect(pub.verify(Buffer.from('other hash'), sig)).toBe(false);
    const bad = Buffer.from(sig);
    bad[0] = bad[0]! ^ 1;
    expect(pub.verify(data, bad)).toBe(false);
    // Other key types still take ssh2's own path.
    const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 });
    const rsaSig = parse(rsa.private).sign(data, 'sha256') as Buffer;
    expect(parse(rsa.public).verify(data, rsaSig, 'sha256')).toBe(true);
  });
});
