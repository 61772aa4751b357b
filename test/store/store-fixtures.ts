import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { emptyCounts, type Result, type Status } from '../../src/engine/result.js';
import type { RunRecord } from '../../src/store/store.js';
import { POSTGRES_URL } from '../helpers/services.js';

/**
 * A fresh database per test file: a temp SQLite file, or a fresh PostgreSQL schema `fp_test_<random>`
 * selected through the URL's search_path option (parallel test files never collide). `drop()` removes it.
 */
export async function freshDatabase(
  dialect: 'sqlite' | 'postgres',
): Promise<{ url: string; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'fp-store-'));
    return { url: join(dir, 'test.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const schema = `fp_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const sep = POSTGRES_URL.includes('?') ? '&' : '?';
  return {
    url: `${POSTGRES_URL}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

let seq = 0;
export function newRun(over: Partial<RunRecord> = {}): RunRecord {
  return {
    id: `run-${process.pid}-${++seq}-${randomBytes(3).toString('hex')}`,
    check: 'tcp',
    args: { port: 80 },
    targets: { specs: ['127.0.0.0/24'] },
    options: { concurrency: 16, retries: 0 },
    monitor: null,
    owner: null,
    state: 'queued',
    total: null,
    counts: emptyCounts(),
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
    error: null,
    ...over,
  };
}

export function result(run: string, i: number, status: Status, over: Partial<Result> = {}): Result {
  return {
    run,
    target: `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 80,
    name: null,
    labels: { i: String(i) },
    check: 'tcp',
    status,
    durationMs: 1.5,
    startedAt: new Date(1_700_000_000_000 + i).toISOString(),
    attempts: 1,
    message: status === 'pass' ? 'connected' : 'refused',
    reason: status === 'pass' ? 'connected' : 'refused',
    data: { i },
    ...over,
  };
}
