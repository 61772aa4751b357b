/**
 * Preloaded with `node --import bench/lib/first-connect.mjs ...` by bench/startup.ts: at the first TCP connect
 * of each thread it writes `FIRST_CONNECT <epoch ms> <process CPU ms so far>` to stderr (synchronously), then
 * connects as usual. The hook is on the TCP handle's `connect` (Node's `tcp_wrap` binding), which
 * fleetprobe's plain connections call directly and `net.connect` calls underneath. Epoch time, because a
 * worker thread's `performance.now()` counts from the thread's start.
 */
process.noDeprecation = true;
const { TCP } = process.binding('tcp_wrap');
process.noDeprecation = false;

let seen = false;
for (const method of ['connect', 'connect6']) {
  const connect = TCP.prototype[method];
  TCP.prototype[method] = function firstConnect(...args) {
    if (!seen) {
      seen = true;
      const cpu = process.cpuUsage();
      process._rawDebug(
        `FIRST_CONNECT ${(performance.timeOrigin + performance.now()).toFixed(1)} ${((cpu.user + cpu.system) / 1000).toFixed(1)}`,
      );
    }
    return connect.apply(this, args);
  };
}
