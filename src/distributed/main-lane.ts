import { EventEmitter } from 'node:events';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FromThread, ThreadData, ToThread } from './thread-protocol.js';
import { serveLane } from './thread-serve.js';

/** What the thread executor needs of a lane: a worker thread, or the main thread's own lane (`MainLane`). */
export interface Lane {
  postMessage(m: ToThread, transfer?: readonly ArrayBuffer[]): void;
  on(event: 'message', listener: (m: FromThread) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  ref(): void;
  unref(): void;
  terminate(): Promise<number>;
}

/**
 * The thread executor's lane in the main thread: the same protocol and the same engine as a worker thread
 * (`serveLane`), over a `MessageChannel` instead of a thread's port. It costs no isolate of its own (no second
 * load of the modules, no second warm-up of the hot code), so a run on two cores uses main plus one thread.
 */
export class MainLane extends EventEmitter implements Lane {
  readonly #port: MessagePort;
  readonly #stop: () => void;
  #stopped = false;

  constructor(data: ThreadData, log: Logger) {
    super();
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.on('message', (m: FromThread) => this.emit('message', m));
    this.#stop = serveLane(port2, {
      data,
      log,
      closeDnsWhenIdle: false,
      onError: (err) => this.emit('error', err instanceof Error ? err : new Error(String(err))),
    });
    // Only the executor's end keeps the process alive, while the lane has a run (as a worker thread is ref'd).
    port2.unref();
    port1.unref();
  }

  postMessage(m: ToThread, transfer?: readonly ArrayBuffer[]): void {
    this.#port.postMessage(m, transfer);
  }

  ref(): void {
    this.#port.ref();
  }

  unref(): void {
    this.#port.unref();
  }

  async terminate(): Promise<number> {
    if (!this.#stopped) {
      this.#stopped = true;
      this.#stop();
      this.#port.close();
      this.emit('exit', 1);
    }
    return 1;
  }
}
