export { type DocPath, formatPath, type SourcePos, YamlSource } from '../core/yaml-source.js';
export type { FleetprobeConfig } from './config.js';
export { ConfigError, type ConfigProblem, formatProblem } from './config-error.js';
export { ConfigHolder, type ConfigHolderOptions, type ReloadSummary } from './config-holder.js';
export {
  addCredentialFlag,
  CREDENTIAL_GROUPS,
  type CredentialGroup,
  type Credentials,
  checkCredentialFiles,
  credentialPath,
  emptyCredentials,
} from './credentials.js';
export { loadConfig, MAX_CONFIG_BYTES, type ParseConfigOptions, parseConfig } from './load-config.js';
export { addProbeModuleFlag, type ProbeModulesConfig } from './probe-modules.js';
