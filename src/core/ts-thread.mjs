// Development entry of fleetprobe's worker threads (see thread-module.ts): when fleetprobe runs from its
// TypeScript sources (tsx, vitest), a worker thread cannot import a .ts module by itself (Node 20 ignores
// `--import` in a worker's execArgv), so this plain-JS file registers tsx inside the thread, then imports the
// module named by the thread's last argv entry. Built code starts the .js module directly.
import { register } from 'tsx/esm/api';

register();
const threadModule = await import(process.argv[process.argv.length - 1]);

// A piscina pool (user checks) takes its task function from the entry's default export.
export default threadModule.default;
