import { dnsCheck } from './dns/index.js';
import { httpCheck } from './http/index.js';
import { CheckRegistry } from './registry.js';
import { sshCheck } from './ssh/ssh-check.js';
import { tcpCheck } from './tcp/index.js';

/** A registry holding the built-in checks: tcp, http, dns, ssh. */
export function createBuiltinRegistry(): CheckRegistry {
  const registry = new CheckRegistry();
  for (const check of [tcpCheck, httpCheck, dnsCheck, sshCheck]) registry.register(check);
  return registry;
}
