export {
  DnsClient,
  type DnsClientOptions,
  type DnsClientStats,
  type DnsQuery,
  type DnsResponse,
} from './client.js';
export { DNS_RECORD_TYPES, type DnsRecordType, isDnsRecordType } from './codec.js';
export {
  DnsClientClosedError,
  DnsNoReplyError,
  DnsQueryError,
  DnsServerSpecError,
  DnsTcpError,
} from './errors.js';
export { DnsResolveError, resolveHost } from './resolve-host.js';
export { reverseName } from './reverse.js';
export {
  canonicalAddress,
  DNS_PORT,
  type DnsServer,
  formatDnsServer,
  parseDnsServer,
} from './server-spec.js';
export { closeSharedDnsClient, getSharedDnsClient } from './shared-client.js';
export { TimerWheel } from './timer-wheel.js';
export type { DecodedReply, DnsAnswer } from './types.js';
export { AimdWindow } from './window.js';
