export { generateSimCerts, SimCertError, type SimCerts } from './certs.js';
export { type SimReadyInfo, simCommand } from './cli.js';
export { type ControlServer, type ControlServerOptions, startControlServer } from './control-server.js';
export {
  type FaultOverride,
  type FaultOverrideRequest,
  FaultOverrides,
  MAX_FAULT_OVERRIDES,
  SimFaultError,
} from './fault-overrides.js';
export { createFleetModel, type FleetOptions, hostByName } from './fleet.js';
export {
  DNS_FAULTS,
  type DnsFault,
  type FleetModel,
  HTTP_FAULTS,
  type HttpFault,
  type SimHost,
  SSH_FAULTS,
  type SshFault,
  TCP_FAULTS,
  type TcpFault,
  TLS_FAULTS,
  type TlsFault,
} from './fleet-model.js';
export { DRIP_BODY_BYTES, GARBAGE, healthyBody } from './http-behaviour.js';
export { startSimHttpServer } from './http-server.js';
export { startSimHttpsServer } from './https-server.js';
export { intToIpv4, ipv4ToInt } from './ipv4.js';
export {
  DEFAULT_MANIFEST_TIMEOUT_MS,
  type ExpectedStatus,
  expectedStatus,
  MANIFEST_CHECKS,
  type ManifestCheck,
  type ManifestEntry,
  manifestCheckArgs,
  manifestEntry,
  writeManifest,
} from './manifest.js';
export { HEALTHY_PROFILE, loadProfile, MIXED_PROFILE, parseProfile, type SimProfile } from './profile.js';
export type { SimListenOptions, SimServer } from './sim-server.js';
export {
  DEFAULT_SIM_PORTS,
  SIM_SERVICES,
  SimListenError,
  type SimService,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from './simulator.js';
export { writeTargetsFile } from './targets-file.js';
export { startSimTcpServer, tcpBanner } from './tcp-server.js';
