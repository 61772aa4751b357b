import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { defineCheck } from 'fleetprobe';
import { request } from 'undici';
import { z } from 'zod';

/**
 * Downloads a payload and its detached signature from the target and verifies the signature
 * (Ed25519, or RSA/ECDSA with SHA-256) `rounds` times: synchronous, CPU-heavy work, so the check is
 * thread-isolated and cannot stall the event loop that runs the other checks.
 *
 *   fleetprobe run cpu-signature 127.0.0.1:8080 --check-module examples/cpu-signature.ts \
 *     -a publicKey=./release.pub.pem -a rounds=500
 */
export default defineCheck({
  name: 'cpu-signature',
  description: 'verify a signature over a payload downloaded from the target',
  isolate: 'thread',
  args: z.object({
    port: z.coerce.number().int().min(1).max(65535).optional(),
    path: z.string().startsWith('/').default('/payload'),
    /** The raw signature bytes (not base64). */
    sigPath: z.string().startsWith('/').default('/payload.sig'),
    /** A PEM public key inline, or the path of a PEM file (read in the worker thread). */
    publicKey: z.string().min(1),
    rounds: z.coerce.number().int().min(1).max(100_000).default(100),
    maxBytes: z.coerce
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024),
  }),
  timeoutMs: 10_000,
  defaultPort: 80,
  async run(target, args, ctx) {
    const host = target.address ?? target.name;
    const base = `http://${host?.includes(':') ? `[${host}]` : host}:${args.port ?? target.port ?? 80}`;
    let key: KeyObject;
    try {
      key = publicKey(args.publicKey);
    } catch (err) {
      return { status: 'error', message: `public key: ${(err as Error).message}` };
    }
    let payload: Buffer;
    let signature: Buffer;
    try {
      [payload, signature] = await Promise.all([
        download(base + args.path, args.maxBytes, ctx.signal),
        download(base + args.sigPath, 64 * 1024, ctx.signal),
      ]);
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      return { status: 'error', message: (err as Error).message };
    }
    // Ed25519 takes no digest name; RSA and ECDSA use SHA-256.
    const algorithm =
      key.asymmetricKeyType === 'ed25519' || key.asymmetricKeyType === 'ed448' ? null : 'sha256';
    const started = performance.now();
    let valid = true;
    for (let i = 0; i < args.rounds && valid; i++) {
      // Synchronous: nothing else runs in this thread meanwhile. Checking the signal between rounds stops
      // early and keeps the thread; a check that never checks is terminated at its deadline instead.
      if (ctx.signal.aborted) throw ctx.signal.reason;
      valid = verify(algorithm, payload, key, signature);
    }
    const data = { bytes: payload.length, rounds: args.rounds, verifyMs: performance.now() - started };
    return valid
      ? { status: 'pass', message: `signature valid (${key.asymmetricKeyType})`, data }
      : { status: 'fail', message: 'signature does not match the payload', data };
  },
});

const keys = new Map<string, KeyObject>();

function publicKey(spec: string): KeyObject {
  let key = keys.get(spec);
  if (!key) {
    key = createPublicKey(spec.includes('-----BEGIN') ? spec : readFileSync(spec, 'utf8'));
    keys.set(spec, key);
  }
  return key;
}

async function download(url: string, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
  const res = await request(url, { signal });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`GET ${url}: HTTP ${res.statusCode}`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      res.body.destroy();
      throw new Error(`GET ${url}: body larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
