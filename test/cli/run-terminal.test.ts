import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatSummary } from '../../src/cli/format-summary.js';
import { RunTerminal } from '../../src/cli/run-terminal.js';
import { OutcomeSummary } from '../../src/engine/outcome-summary.js';
import { emptyCounts, type Result, type Status } from '../../src/engine/result.js';
import type { RunProgress } from '../../src/engine/types.js';
import { TextOutput } from '../../src/sinks/output.js';
import { renderScreen } from '../helpers/terminal-screen.js';

/** stdout and stderr of one terminal: both append to the same byte log, as a pty receives them. */
function fakeTerminal(isTTY = true) {
  const log: string[] = [];
  const stream = () => {
    const s = new Writable({
      write(chunk: Buffer, _enc, cb) {
        log.push(chunk.toString());
        cb();
      },
    }) as Writable & { isTTY: boolean; columns: number };
    s.isTTY = isTTY;
    s.columns = 100;
    return s as unknown as NodeJS.WriteStream;
  };
  return {
    stdout: stream(),
    stderr: stream(),
    screen: () => renderScreen(log.join('')),
    raw: () => log.join(''),
  };
}

const result = (i: number, status: Status): Result => ({
  run: 'r1',
  target: `127.20.0.${i}`,
  port: 80,
  name: null,
  labels: {},
  check: 'tcp',
  status,
  durationMs: 1,
  startedAt: new Date(0).toISOString(),
  attempts: 1,
  message: status === 'pass' ? 'connected' : status,
  data: {},
});

const progressOf = (done: number): RunProgress => ({
  id: 'r1',
  check: 'tcp',
  startedAt: Date.now() - 1000,
  total: 100,
  done,
  inFlight: 4,
  counts: { ...emptyCounts(), pass: done },
});

const ROW = /^(pass|fail|error|timeout|cancelled)\s+127\.20\.0\.\d+/;

describe('RunTerminal on a terminal', () => {
  it('clears the progress line around rows, and every row comes before the summary', async () => {
    const term = fakeTerminal();
    let done = 0;
    const t = new RunTerminal({
      format: 'table',
      stdout: term.stdout,
      stderr: term.stderr,
      progress: () => progressOf(done),
      onClosed: () => {},
    });
    const summary = new OutcomeSummary();
    await t.header();
    for (let i = 0; i < 40; i++) {
      const r = result(i, i % 10 === 0 ? 'timeout' : 'pass');
      summary.add(r);
      done++;
      await t.row(r);
      if (i % 7 === 0) await new Promise((resolve) => setImmediate(resolve)); // rows in several chunks
    }
    expect(term.raw()).toContain('in flight 4'); // the progress line was drawn between chunks
    await t.finish(summary, 1000, false);

    const screen = term.screen();
    expect(screen[0]).toMatch(/^STATUS\s+TARGET/);
    const rows = screen.slice(1, 41);
    for (const line of rows) expect(line).toMatch(ROW);
    expect(screen[41]).toMatch(/^40 targets in 1\.00 s \(40 checks\/s\): 36 pass; 4 timeout$/);
    expect(screen.slice(42).every((l) => !ROW.test(l) && !l.includes('in flight'))).toBe(true);
  });

  it('table mode counts cancelled targets but does not print them; jsonl prints them', async () => {
    for (const format of ['table', 'jsonl'] as const) {
      const term = fakeTerminal();
      const t = new RunTerminal({
        format,
        stdout: term.stdout,
        stderr: term.stderr,
        progress: undefined,
        onClosed: () => {},
      });
      const summary = new OutcomeSummary();
      for (let i = 0; i < 100; i++) {
        const r = result(i, i < 3 ? 'pass' : 'cancelled');
        summary.add(r);
        await t.row(r);
      }
      await t.finish(summary, 1000, true);
      const screen = term.screen();
      const cancelledRows = screen.filter(
        (l) => l.includes('"status":"cancelled"') || /^cancelled\s+127/.test(l),
      );
      expect(cancelledRows).toHaveLength(format === 'table' ? 0 : 97);
      expect(screen.at(-2)).toMatch(/^cancelled: 100 targets .* \(3 checks\/s\): 3 pass; 97 cancelled$/);
    }
  });

  it('abandon() (a second Ctrl-C) leaves the cursor on a clean line', async () => {
    const term = fakeTerminal();
    const t = new RunTerminal({
      format: 'table',
      stdout: term.stdout,
      stderr: term.stderr,
      progress: () => progressOf(5),
      onClosed: () => {},
    });
    await t.row(result(1, 'pass'));
    await new Promise((resolve) => setImmediate(resolve));
    term.stderr.write('^C'); // what the terminal echoes
    t.abandon();
    const raw = term.raw();
    expect(raw.slice(raw.lastIndexOf('\n') + 1)).toMatch(/\r\u001b\[2K$/);
    expect(renderScreen(`${raw}$ `).at(-1)).toBe('$'); // the shell prompt starts at column 0 alone
  });
});

describe('TextOutput', () => {
  it('copies bytes before write returns, and keeps the order of text and bytes of any size', async () => {
    const chunks: Buffer[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(Buffer.from(chunk));
        setImmediate(cb);
      },
    });
    const out = new TextOutput(stream);
    const expected: string[] = [];
    const bytes = new Uint8Array(1000);
    for (let i = 0; i < 400; i++) {
      const line = `${i} ${'x'.repeat(i * 7)}\n`;
      if (i % 2 === 0) {
        await out.write(line);
      } else {
        const n = new TextEncoder().encodeInto(line.slice(0, 999), bytes).written;
        await out.write(bytes.subarray(0, n));
        bytes.fill(63); // the caller reuses its buffer at once
        expected.push(line.slice(0, 999));
        continue;
      }
      expected.push(line);
    }
    await out.write('z'.repeat(300_000)); // larger than a chunk buffer
    expected.push('z'.repeat(300_000));
    await out.flush();
    expect(Buffer.concat(chunks).toString()).toBe(expected.join(''));
  });

  it('reports a closed reader (EPIPE) once, and drops what is pending', async () => {
    let closed = 0;
    const written: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        written.push(chunk.toString());
        cb(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const out = new TextOutput(stream, { onClosed: () => closed++ });
    await out.write('a\n');
    await out.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(out.broken).toBe(true);
    await out.write('b\n');
    await out.flush();
    expect(written).toEqual(['a\n']);
    expect(closed).toBe(1);
  });
});

describe('formatSummary', () => {
  it('states the rate of checked targets: cancelled ones are not checks', () => {
    const summary = new OutcomeSummary();
    for (let i = 0; i < 10; i++) summary.add(result(i, 'pass'));
    for (let i = 10; i < 5000; i++) summary.add(result(i % 250, 'cancelled'));
    expect(formatSummary(summary, 2000, true).split('\n')[0]).toBe(
      'cancelled: 5,000 targets in 2.00 s (5 checks/s): 10 pass; 4,990 cancelled',
    );
  });
});
