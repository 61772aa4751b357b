export { closeSharedDnsClient } from '../../dns/shared-client.js';
export { type DnsArgs, dnsArgs, TARGET_ADDRESS_PLACEHOLDER } from './dns-args.js';
export { dnsCheck } from './dns-check.js';
