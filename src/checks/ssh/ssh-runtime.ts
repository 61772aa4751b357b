/**
 * What the `ssh` check needs of ssh2 at run time, behind one dynamic import (`loadSshRuntime`): a process
 * that never runs an ssh check never loads ssh2 (~14 MB of RSS).
 */
export { identityCache } from './identity.js';
export { sshExec } from './ssh-session.js';
