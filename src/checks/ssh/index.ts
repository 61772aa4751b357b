export { installFastVerify, withFastSign } from './fast-sign.js';
export { IdentityCache, identityCache, SshIdentityError } from './identity.js';
export {
  blobKeyType,
  fingerprintSha256,
  formatKnownHostsLine,
  type HostKeyVerdict,
  type KnownHostKey,
  KnownHosts,
  knownHostsName,
  matchPattern,
} from './known-hosts.js';
export { KnownHostsStore, knownHostsStore } from './known-hosts-store.js';
export { HOST_KEY_POLICIES, type HostKeyPolicy, type SshArgs, sshArgs, sshCheck } from './ssh-check.js';
export {
  FAST_ALGORITHMS,
  type HostKeyVerifier,
  SSH_PHASES,
  type SshExecOptions,
  type SshOutcome,
  type SshPhase,
  type SshTimings,
  sshExec,
} from './ssh-session.js';
