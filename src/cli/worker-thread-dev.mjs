// Development entry of a `worker --threads` thread: from the TypeScript sources (tsx, vitest) a worker thread
// cannot import worker-thread.ts by itself (Node 20 ignores `--import` in a worker's execArgv), so this
// plain-JS file registers tsx inside the thread first. Built code uses worker-thread.js.
import { register } from 'tsx/esm/api';

register();
await import('./worker-thread.ts');
