/** Connecting to NATS: the embedded server or any existing server or cluster. */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../supervisors/log.js';
import type { NatsUser } from './credentials.js';

export type { NatsConnection };

export interface ConnectOptions {
  servers: string | string[];
  user?: NatsUser | string;
  pass?: string;
  name?: string;
  /** Keep retrying forever (nodes) or fail fast (CLI one-shots). */
  reconnect?: boolean;
}

/** Error when the first connection cannot be made. */
export class BusConnectError extends Error {
  override name = 'BusConnectError';
}

/** Opens a NATS connection; the error names the server and the cause. */
export async function connectBus(options: ConnectOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: options.servers,
      user: options.user,
      pass: options.pass,
      name: options.name,
      reconnect: options.reconnect ?? true,
      maxReconnectAttempts: options.reconnect === false ? 0 : -1,
      reconnectTimeWait: 250,
      waitOnFirstConnect: false,
      // Without it every request (each archived track event is one) builds two Error objects
      // for their stack traces: a measurable share of a busy tracker's scan.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw new BusConnectError(`could not connect to NATS at ${String(options.servers)}: ${(err as Error).message}`, { cause: err });
  }
}

/** Logs the connection's disconnects and reconnects (with the server), so a failover is visible in the node's log. */
export function logConnectionEvents(nc: NatsConnection, log: Logger): void {
  void (async () => {
    let since = 0;
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        since = performance.now();
        log.warn({ server: s.server }, 'bus: disconnected');
      } else if (s.type === 'reconnect') {
        log.info({ server: s.server, after_ms: Math.round(performance.now() - since) }, 'bus: reconnected');
      }
    }
  })().catch(() => undefined);
}

/**
 * Drains the connection (what is in flight is sent); when that fails — the server is gone, so a
 * drain cannot finish — or takes longer than `drainMs`, closes it, which also ends the endless
 * reconnecting a node's connection does and would otherwise keep the process alive.
 */
export async function closeBus(nc: NatsConnection, drainMs = 5000): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([nc.drain(), new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`drain took over ${drainMs} ms`)), drainMs)))]);
  } catch {
    if (!nc.isClosed()) await nc.close();
  } finally {
    clearTimeout(timer);
  }
}
