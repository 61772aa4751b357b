import { DnsClient } from './client.js';

let shared: DnsClient | undefined;

/**
 * The process-wide DnsClient used by the `dns` check (and, if the CLI wants, by `--resolver` lookups):
 * one socket pool and one adaptive window for every query of a run. Created on first use. Its sockets are
 * `unref()`ed when idle, so forgetting to close it never keeps the process alive; still, the engine/CLI
 * should `await closeSharedDnsClient()` at the end of a run to release the sockets at once.
 */
export function getSharedDnsClient(): DnsClient {
  if (shared === undefined || shared.closed) shared = new DnsClient();
  return shared;
}

/** Closes the shared client (rejecting whatever it still has in flight); the next use creates a new one. */
export function closeSharedDnsClient(): Promise<void> {
  const client = shared;
  shared = undefined;
  return client ? client.close() : Promise.resolve();
}
