// Development entry of the check worker: when fleetprobe runs from its TypeScript sources (tsx, vitest),
// a worker thread cannot import check-worker.ts by itself (Node 20 ignores `--import` in a worker's
// execArgv), so this plain-JS file registers tsx inside the thread first. Built code uses check-worker.js.
import { register } from 'tsx/esm/api';

register();
const { default: runCheckTask } = await import('./check-worker.ts');

export default runCheckTask;
