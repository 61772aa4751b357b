import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { FleetprobeError } from '../core/errors.js';
import type { TlsFault } from './fleet-model.js';

const run = promisify(execFile);

/** The sim's certificates could not be generated (the `openssl` CLI is missing or failed). */
export class SimCertError extends FleetprobeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FP_SIM_CERT', message, options);
  }
}

/** PEM material of the sim's HTTPS: one CA and one leaf per TLS fault (all sharing one key). */
export interface SimCerts {
  /** Path of the CA certificate (PEM): what checks trust (`--arg ca=` or NODE_EXTRA_CA_CERTS). */
  readonly caFile: string;
  readonly ca: string;
  readonly key: string;
  /** Leaf certificate per TLS fault: healthy `*.<zone>` valid 30 days; expired `*.<zone>` that ended in
   * 2020; wrong-name `wrong.invalid`. Each leaf also names `<zone>` itself and 127.0.0.1. */
  readonly leaves: Readonly<Record<TlsFault, string>>;
}

async function openssl(cwd: string, args: string[], signal?: AbortSignal): Promise<void> {
  try {
    await run('openssl', args, { cwd, signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    const stderr = String((err as { stderr?: unknown }).stderr ?? '')
      .trim()
      .split('\n')[0];
    throw new SimCertError(`openssl ${args[0]} failed: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/**
 * Generates (with the `openssl` CLI, ~100 ms) an EC P-256 CA and the three leaves into `dir`.
 * Per-host certificates would cost a signature per host: instead every leaf is a wildcard for the zone,
 * so checks must send SNI `h<i>.<zone>` (give targets with names, e.g. the manifest as a targets file).
 */
export async function generateSimCerts(dir: string, zone: string, signal?: AbortSignal): Promise<SimCerts> {
  await mkdir(dir, { recursive: true });
  const o = (args: string[]) => openssl(dir, args, signal);
  const ec = ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  await o(['genpkey', ...ec, '-out', 'ca.key']);
  await o([
    'req',
    '-x509',
    '-new',
    '-key',
    'ca.key',
    '-subj',
    '/CN=fleetprobe-sim CA',
    '-days',
    '30',
    '-sha256',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    'ca.pem',
  ]);
  await o(['genpkey', ...ec, '-out', 'leaf.key']);
  const good = `DNS:*.${zone},DNS:${zone},IP:127.0.0.1`;
  await writeFile(
    path.join(dir, 'ca.cnf'),
    [
      '[ca]',
      'default_ca = sim',
      '[sim]',
      'database = index.txt',
      'new_certs_dir = .',
      'serial = serial',
      'default_md = sha256',
      'policy = pol',
      'unique_subject = no',
      'copy_extensions = none',
      '[pol]',
      'commonName = supplied',
      '[good]',
      `subjectAltName = ${good}`,
      'extendedKeyUsage = serverAuth',
      'basicConstraints = CA:FALSE',
      '[wrong]',
      'subjectAltName = DNS:wrong.invalid',
      'extendedKeyUsage = serverAuth',
      'basicConstraints = CA:FALSE',
      '',
    ].join('\n'),
  );
  await writeFile(path.join(dir, 'index.txt'), '');
  await writeFile(path.join(dir, 'serial'), '1000\n');
  const sign = async (cn: string, ext: string, out: string, dates: string[]) => {
    await o(['req', '-new', '-key', 'leaf.key', '-subj', `/CN=${cn}`, '-out', `${out}.csr`]);
    await o([
      'ca',
      '-batch',
      '-notext',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.pem',
      '-keyfile',
      'ca.key',
      '-in',
      `${out}.csr`,
      '-extensions',
      ext,
      ...dates,
      '-out',
      `${out}.pem`,
    ]);
  };
  await sign(`*.${zone}`, 'good', 'healthy', ['-days', '30']);
  await sign(`*.${zone}`, 'good', 'expired', [
    '-startdate',
    '20200101000000Z',
    '-enddate',
    '20200102000000Z',
  ]);
  await sign('wrong.invalid', 'wrong', 'wrong-name', ['-days', '30']);
  const read = (f: string) => readFile(path.join(dir, f), 'utf8');
  const [ca, key, healthy, expired, wrongName] = await Promise.all(
    ['ca.pem', 'leaf.key', 'healthy.pem', 'expired.pem', 'wrong-name.pem'].map(read),
  );
  return {
    caFile: path.join(dir, 'ca.pem'),
    ca: ca!,
    key: key!,
    leaves: { healthy: healthy!, 'expired-cert': expired!, 'wrong-name-cert': wrongName! },
  };
}
