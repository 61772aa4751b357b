export { type DocPath, formatPath, type SourcePos, YamlSource } from '../core/yaml-source.js';
export { CREDENTIAL_GROUPS, type Credentials, type FleetprobeConfig } from './config.js';
export { ConfigError, type ConfigProblem, formatProblem } from './config-error.js';
export { ConfigHolder, type ConfigHolderOptions, type ReloadSummary } from './config-holder.js';
export { loadConfig, MAX_CONFIG_BYTES, type ParseConfigOptions, parseConfig } from './load-config.js';
