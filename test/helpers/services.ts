import net from 'node:net';

/**
 * Whether a TCP service answers on loopback. Tests that need PostgreSQL or NATS call `requireService`:
 * absent on a developer machine -> the suite is skipped *loudly*; absent under CI=true -> a failure.
 */
export function serviceUp(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export const POSTGRES_URL = process.env.FLEETPROBE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
export const NATS_URL = process.env.FLEETPROBE_TEST_NATS ?? 'nats://127.0.0.1:4222';

/**
 * Returns true when the service is up. When it is down: under CI=true throws (the suite fails),
 * otherwise prints a loud notice and returns false so the caller can `describe.skipIf(!up)`.
 */
export async function requireService(name: string, port: number): Promise<boolean> {
  if (await serviceUp(port)) return true;
  const msg = `${name} is not reachable on 127.0.0.1:${port}`;
  if (process.env.CI === 'true') throw new Error(`${msg}: CI requires it`);
  process.stderr.write(`\n*** SKIPPING ${name} tests: ${msg} ***\n\n`);
  return false;
}
