export { SIM_DNS_TTL, type SimDnsListenOptions, startSimDnsServer, WRONG_ADDRESS } from './dns-server.js';
