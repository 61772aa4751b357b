// Development entry of the thread executor's worker: when fleetprobe runs from its TypeScript sources (tsx,
// vitest), a worker thread cannot import thread-worker.ts by itself (Node 20 ignores `--import` in a worker's
// execArgv), so this plain-JS file registers tsx inside the thread first. Built code uses thread-worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./thread-worker.ts');
