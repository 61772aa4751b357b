import { Writable } from 'node:stream';
import pino from 'pino';
import type { Observation } from '../../src/checks/check.js';
import { sshCheck } from '../../src/checks/ssh/index.js';
import { createDeadline } from '../../src/core/deadline.js';

/** Everything the ssh check logged, as text (pino JSON lines). */
export class LogCapture {
  text = '';
  readonly logger = pino(
    { level: 'trace' },
    new Writable({
      write: (chunk: Buffer, _enc, cb) => {
        this.text += chunk.toString();
        cb();
      },
    }),
  );
}

/**
 * Runs the `ssh` check once as the engine would: arguments through the schema, a real deadline, a
 * logger. `parent` lets a test cancel. Returns the observation (or rejects like `check.run`).
 */
export async function runSsh(
  address: string,
  rawArgs: Record<string, unknown>,
  options: { timeoutMs?: number; log?: LogCapture; parent?: AbortSignal; port?: number } = {},
): Promise<Observation> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const args = sshCheck.args.parse(rawArgs);
  const deadline = createDeadline(timeoutMs, options.parent);
  try {
    return await sshCheck.run({ address, port: options.port, labels: {} }, args, {
      signal: deadline.signal,
      deadline: deadline.at,
      timeoutMs,
      log: (options.log ?? new LogCapture()).logger,
      resolve: async () => [],
    });
  } finally {
    deadline.dispose();
  }
}
