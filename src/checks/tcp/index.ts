export { elapsedMs, socketErrorCode } from './socket-errors.js';
export { type TcpArgs, tcpArgs, tcpCheck } from './tcp-check.js';
