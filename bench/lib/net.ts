import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort as freePortOn } from '../../src/sim/ssh/sshd.js';

/**
 * A TCP port that was free a moment ago on 0.0.0.0 (bound, then released). Also a port to which a
 * connect is refused, as long as nobody takes it meanwhile.
 */
export function freePort(): Promise<number> {
  return freePortOn('0.0.0.0');
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, host);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Resolves once `host:port` accepts a connection; rejects after `timeoutMs` (default 10 s). */
export async function waitForListener(host: string, port: number, timeoutMs = 10_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    if (await canConnect(host, port)) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
}

/** Loopback host `i` counted from `base` (an IPv4 inside 127.0.0.0/8): 127.40.0.0 + 300 = 127.40.1.44. */
export function loopbackHost(base: string, i: number): string {
  const [a, b, c, d] = base.split('.').map(Number) as [number, number, number, number];
  const n = (((a << 24) >>> 0) + (b << 16) + (c << 8) + d + i) >>> 0;
  if (n >>> 24 !== 127) throw new Error(`${base} + ${i} leaves 127.0.0.0/8`);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
