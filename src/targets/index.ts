export { readTargetFile, type TargetFile } from './file-entries.js';
export { foldAddresses, foldIpv4Ranges } from './fold.js';
export { formatOfPath, TARGET_FILE_FORMATS, type TargetFileFormat } from './formats.js';
export { bigIntToIpv6, intToIpv4, ipv4ToInt, ipv6ToBigInt } from './ip.js';
export { EMPTY_LABELS, isLabelKey } from './labels.js';
export { makeResolver } from './make-resolver.js';
export {
  type OpenTargetsOptions,
  openTargets,
  type TargetSource,
  TargetSourceClosedError,
} from './open-targets.js';
export {
  type BlockSpec,
  expandSpec,
  isHostname,
  type ParsedSpec,
  parseTargetSpec,
  type SingleSpec,
  specCount,
} from './spec.js';
export { type ResolveFn, systemResolve } from './system-resolver.js';
export { type Target, targetKey } from './target.js';
export { parseTargetInput, type TargetInput, type TargetObject } from './target-input.js';
