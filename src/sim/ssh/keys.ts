import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

/** An ed25519 key pair in the formats OpenSSH and ssh2 read. */
export interface Ed25519Pair {
  /** `-----BEGIN OPENSSH PRIVATE KEY-----` text, unencrypted. */
  readonly privateKey: string;
  /** `ssh-ed25519 AAAA... comment` (authorized_keys / .pub form). */
  readonly publicKey: string;
  /** The wire-format public key blob (`string "ssh-ed25519" || string pk`). */
  readonly blob: Buffer;
  /** The private key, decoded once (signing with it avoids a decode per signature). */
  readonly keyObject: KeyObject;
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * A deterministic ed25519 key from `seed` and a label (same inputs -> same key), so the simulator's host
 * keys are stable across restarts with the same `--seed`. Not for real secrets: the seed is public.
 */
export function deriveEd25519(seed: number | string, label: string, comment = label): Ed25519Pair {
  const secret = createHash('sha256').update(`fleetprobe-sim-ssh\0${seed}\0${label}`).digest();
  return ed25519FromSecret(secret, comment);
}

/** Builds the key pair for a 32-byte ed25519 secret. */
export function ed25519FromSecret(secret: Buffer, comment: string): Ed25519Pair {
  const priv = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, secret]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = createPublicKey(priv).export({ format: 'jwk' });
  const pk = Buffer.from(jwk.x!, 'base64url');
  const blob = Buffer.concat([sshString('ssh-ed25519'), sshString(pk)]);
  const check = secret.readUInt32BE(0);
  const u32 = Buffer.alloc(8);
  u32.writeUInt32BE(check, 0);
  u32.writeUInt32BE(check, 4);
  let privSection = Buffer.concat([
    u32,
    sshString('ssh-ed25519'),
    sshString(pk),
    sshString(Buffer.concat([secret, pk])),
    sshString(comment),
  ]);
  const padLen = (8 - (privSection.length % 8)) % 8;
  const pad = Buffer.alloc(padLen);
  for (let i = 0; i < padLen; i++) pad[i] = i + 1;
  privSection = Buffer.concat([privSection, pad]);
  const body = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'),
    sshString('none'),
    sshString(Buffer.alloc(0)),
    uint32(1),
    sshString(blob),
    sshString(privSection),
  ]);
  const b64 = body.toString('base64').replace(/.{1,70}/g, '$&\n');
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${blob.toString('base64')} ${comment}`,
    blob,
    keyObject: priv,
  };
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function sshString(v: string | Buffer): Buffer {
  const data = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  return Buffer.concat([uint32(data.length), data]);
}
