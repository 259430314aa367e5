/**
 * `skyvox server`: one nats-server from the repo's nats.conf, standalone or as a member of a
 * NATS cluster (routes, JetStream replicated across servers), in the foreground until Ctrl-C.
 * Every server of a cluster must share the passwords: one `--data-dir` (credentials.json)
 * copied to each machine, or the SKYVOX_*_PASSWORD variables.
 */
import { join, resolve } from 'node:path';
import { startNatsServer } from '../bus/nats-server.js';
import type { Logger } from '../supervisors/log.js';
import { UsageError } from './errors.js';
import { defaultDataDir } from './nats-target.js';
import { Shutdown } from './shutdown.js';

export interface ServerOptions {
  name?: string;
  clusterName: string;
  clusterPort?: number;
  routes?: string;
  host?: string;
  natsPort?: number;
  wsPort?: number;
  dataDir?: string;
  storeDir?: string;
  prefix?: string;
}

/** Runs the server until a signal; exit code 1 if it dies on its own. */
export async function server(o: ServerOptions, log: Logger): Promise<number> {
  const routes = (o.routes ?? '').split(',').filter(Boolean);
  for (const r of routes) if (!/^nats-route:\/\/[^\s/]+:\d+$/.test(r)) throw new UsageError(`--routes: expected nats-route://HOST:PORT entries separated by commas, got ${JSON.stringify(r)}`);
  if ((o.clusterPort === undefined) !== (o.name === undefined)) throw new UsageError('--cluster-port and --name go together: a cluster member needs both');
  const dataDir = resolve(o.dataDir ?? defaultDataDir());
  const shutdown = new Shutdown(log);
  const handle = await startNatsServer({
    dataDir,
    port: o.natsPort ?? 4222,
    strictPort: true,
    wsPort: o.wsPort,
    prefix: o.prefix,
    host: o.host,
    storeDir: o.storeDir ?? join(dataDir, o.name ? `jetstream-${o.name}` : 'jetstream'),
    cluster: o.clusterPort === undefined ? undefined : { serverName: o.name!, name: o.clusterName, port: o.clusterPort, routes },
  });
  let code = 0;
  let stopping = false;
  shutdown.add('nats-server', () => {
    stopping = true;
    return handle.stop();
  });
  void handle.exited.then(({ code: c, signal }) => {
    if (stopping) return;
    log.error({ code: c, signal }, 'nats-server exited');
    code = 1;
    shutdown.request('nats-server exited');
  });
  process.stdout.write(`skyvox: nats-server ${o.name ?? ''} on ${handle.url}${o.clusterPort !== undefined ? ` (cluster ${o.clusterName}, routes on ${o.clusterPort}${routes.length ? ` to ${routes.join(', ')}` : ''})` : ''}; Ctrl-C stops\n`);
  await shutdown.requested;
  await shutdown.run();
  return code;
}
