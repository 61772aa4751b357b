export { deriveEd25519, type Ed25519Pair, ed25519FromSecret } from './keys.js';
export { parseSimCommand, type SimCommand } from './sim-commands.js';
export { type SimSshOptions, type SimSshServer, startSimSshServer } from './ssh-server.js';
