/**
 * Preloaded with `node --import bench/lib/first-connect.mjs ...` by bench/startup.ts: at the first `net.connect`
 * of each thread it writes `FIRST_CONNECT <epoch ms> <process CPU ms so far>` to stderr (synchronously), then
 * connects as usual. Epoch time, because a worker thread's `performance.now()` counts from the thread's start.
 */
import net from 'node:net';

const connect = net.connect;
let seen = false;
net.connect = function firstConnect(...args) {
  if (!seen) {
    seen = true;
    const cpu = process.cpuUsage();
    process._rawDebug(
      `FIRST_CONNECT ${(performance.timeOrigin + performance.now()).toFixed(1)} ${((cpu.user + cpu.system) / 1000).toFixed(1)}`,
    );
  }
  return connect.apply(this, args);
};
