/** A real nats-server per test suite: repo nats.conf, ephemeral ports, a temp JetStream store. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/nats-core';
import { connectBus } from '../../bus/connection.js';
import type { NatsUser } from '../../bus/credentials.js';
import { type NatsServerHandle, startNatsServer } from '../../bus/nats-server.js';

export interface TestNats {
  server: NatsServerHandle;
  dataDir: string;
  connect(user?: NatsUser): Promise<NatsConnection>;
  /** Closes every connection and stops the server; safe to call twice. */
  dispose(): Promise<void>;
}

/** Starts a server on free ports in a fresh temp dir. */
export async function startTestNats(options: { prefix?: string } = {}): Promise<TestNats> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skyvox-test-'));
  const server = await startNatsServer({ dataDir, port: 0, wsPort: 0, prefix: options.prefix });
  const conns: NatsConnection[] = [];
  let disposed: Promise<void> | undefined;
  return {
    server,
    dataDir,
    async connect(user: NatsUser = 'node') {
      const nc = await connectBus({ servers: server.url, user, pass: server.credentials[user], reconnect: false });
      conns.push(nc);
      return nc;
    },
    dispose() {
      disposed ??= (async () => {
        await Promise.all(conns.map((c) => c.close().catch(() => {})));
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
      })();
      return disposed;
    },
  };
}

/** Resolves after `ms` (for waiting on the network, never for timing assertions). */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` until it holds or `timeoutMs` passes; rejects with `what` on timeout. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
