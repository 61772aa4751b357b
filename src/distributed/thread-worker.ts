/**
 * The entry of a worker thread of the thread executor (`ThreadExecutor`): serves the executor's lane protocol
 * on its parent port (`serveLane`).
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import type { ThreadData } from './thread-protocol.js';
import { serveLane } from './thread-serve.js';

const data = workerData as ThreadData;

serveLane(parentPort as MessagePort, {
  data,
  log: pino({ level: data.logLevel }, pino.destination(2)).child({ thread: true }),
  closeDnsWhenIdle: true,
  onError: (err) => {
    // Surfaces as the worker's 'error' event in main.
    setImmediate(() => {
      throw err;
    });
  },
});
