import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { alertsCommand } from '../../src/cli/alerts-command.js';
import { openStore } from '../../src/store/index.js';

describe('fleetprobe alerts / silences (--db)', () => {
  let dir: string;
  let db: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fp-alerts-cli-'));
    db = join(dir, 'fp.db');
    const store = await openStore(db);
    await store.alerts.recordAlerts([
      {
        fingerprint: 'aaaaaaaaaaaaaaaa',
        monitor: 'edge',
        rule: 'PopDown',
        kind: 'cohort',
        labels: { alertname: 'PopDown', pop: 'waw' },
        annotations: {},
        state: 'firing',
        startsAt: '2026-11-30T10:00:00.000Z',
        endsAt: null,
        silencedBy: null,
        inhibitedBy: null,
        updatedAt: '2026-11-30T10:00:00.000Z',
      },
    ]);
    await store.close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = async (...args: string[]): Promise<string[]> => {
    const program = new Command('fleetprobe').exitOverride();
    alertsCommand(program);
    const lines: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      return true;
    });
    try {
      await program.parseAsync(['node', 'fleetprobe', ...args]);
    } finally {
      spy.mockRestore();
    }
    return lines;
  };

  it('lists alerts and adds, lists and removes silences', async () => {
    const alerts = (await run('alerts', '--db', db, '--state', 'firing')).map((l) => JSON.parse(l));
    expect(alerts.map((a) => a.fingerprint)).toEqual(['aaaaaaaaaaaaaaaa']);
    const [added] = (
      await run(
        'silences',
        'add',
        '--db',
        db,
        '--until',
        '2h',
        '--match',
        'pop=waw',
        '--target',
        '10.0.0.0/8',
      )
    ).map((l) => JSON.parse(l));
    expect(added).toMatchObject({ matchers: ['pop="waw"'], targets: ['10.0.0.0/8'] });
    expect(await run('silences', 'list', '--db', db)).toHaveLength(1);
    await run('silences', 'rm', added.id, '--db', db);
    expect(await run('silences', 'list', '--db', db)).toHaveLength(0);
    await expect(run('silences', 'add', '--db', db, '--until', '2h')).rejects.toMatchObject({
      code: 'FP_USAGE',
    });
    await expect(run('alerts', '--db', db, '--state', 'pending')).rejects.toMatchObject({ code: 'FP_USAGE' });
  });
});
