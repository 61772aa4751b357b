/** What every protocol server of the sim returns. */
export interface SimServer {
  /** The port it listens on (the actual one when started with port 0). */
  readonly port: number;
  /** Sockets currently open (tarpits, drips, ...). */
  readonly openSockets: () => number;
  /** Stops listening and destroys every open socket. Idempotent. */
  close(): Promise<void>;
}

/** Where a protocol server listens. */
export interface SimListenOptions {
  /** Default 0 (any free port). */
  readonly port?: number;
  /** Default `0.0.0.0`: one listener serves every 127.x.y.z address. */
  readonly host?: string;
}
