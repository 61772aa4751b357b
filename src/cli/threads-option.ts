import { availableParallelism } from 'node:os';
import { parseIntOption } from '../core/number-options.js';

/** `--threads`: 1..256, default the cores available. */
export function parseThreads(text: string | undefined): number {
  if (text === undefined) return Math.min(256, availableParallelism());
  return parseIntOption(text, '--threads', 1, 256);
}
