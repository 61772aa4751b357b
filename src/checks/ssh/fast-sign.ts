import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import ssh2, { type ParsedKey } from 'ssh2';

/**
 * ssh2 signs with the key's PEM text on every call, so OpenSSL 3 decodes the private key once per
 * signature (~1.3 ms for ed25519, ten times the signature itself). At fleet scale that is one decode per
 * host. This gives the parsed key a `sign` that uses a `KeyObject` decoded once; same inputs, same output.
 * Returns the same object. Keys without a private part are returned untouched.
 */
export function withFastSign(key: ParsedKey, keyObject?: KeyObject): ParsedKey {
  const pem = key.getPrivatePEM();
  if (!pem) return key;
  const obj = keyObject ?? createPrivateKey(pem);
  const hashSym = Object.getOwnPropertySymbols(key).find((s) => s.description === 'Hash Algorithm');
  const defaultAlgo = hashSym ? ((key as unknown as Record<symbol, string | null>)[hashSym] ?? null) : null;
  Object.defineProperty(key, 'sign', {
    configurable: true,
    value: (data: Buffer, algo?: string): Buffer | Error => {
      try {
        return sign(algo && typeof algo === 'string' ? algo : defaultAlgo, data, obj);
      } catch (err) {
        return err as Error;
      }
    },
  });
  return key;
}

let verifyInstalled = false;

/**
 * ssh2 verifies the server's host-key signature with a PEM it builds for each connection, so OpenSSL
 * decodes a PEM per handshake (~10% of fleetprobe's client CPU per host in the profile). This replaces
 * the shared `verify` of ssh2's parsed keys, for ed25519 only, by a raw-key import (a JWK `x`, no PEM/DER
 * decoder) and `crypto.verify`; other key types keep ssh2's own path. Same result, true/false/Error.
 * Process-wide and idempotent: every ssh2 user in the process gets the faster verify.
 */
export function installFastVerify(): void {
  if (verifyInstalled) return;
  verifyInstalled = true;
  const probe = ssh2.utils.parseKey(
    'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGH5hV3yR5sp4ZSeUjcbHhG1aIZbVx0PhKUjLqh9o0C1',
  );
  if (probe instanceof Error) return;
  const proto = Object.getPrototypeOf(Array.isArray(probe) ? probe[0] : probe) as {
    verify: (this: ParsedKey, data: Buffer, signature: Buffer, algo?: string) => boolean | Error;
  };
  const original = proto.verify;
  if (typeof original !== 'function') return;
  proto.verify = function fastVerify(this: ParsedKey, data: Buffer, signature: Buffer, algo?: string) {
    if (this.type !== 'ssh-ed25519') return original.call(this, data, signature, algo);
    try {
      const blob = this.getPublicSSH();
      const x = blob.subarray(blob.length - 32).toString('base64url');
      const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
      return verify(null, data, key, signature);
    } catch (err) {
      return err as Error;
    }
  };
}
