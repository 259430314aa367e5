/** `skyvox up` (embedded NATS + one node) and `skyvox node` (join an existing NATS). */
import { hostname } from 'node:os';
import { Bus } from '../bus/bus.js';
import { connectBus } from '../bus/connection.js';
import { readCredentials } from '../bus/credentials.js';
import { type NatsServerHandle, startNatsServer, writeRuntimeInfo } from '../bus/nats-server.js';
import { loadNodeConfig, parseNodeConfig, type NodeConfig } from '../actors/node-supervisor/config.js';
import { NodeSupervisor } from '../actors/node-supervisor/node.js';
import type { Logger } from '../supervisors/log.js';
import { actorRegistry } from './registry.js';
import { Shutdown } from './shutdown.js';
import { defaultDataDir } from './nats-target.js';

export interface RunNodeOptions {
  embedded: boolean;
  nats?: string;
  natsPort?: number;
  wsPort?: number;
  dataDir?: string;
  name?: string;
  config?: string;
  prefix?: string;
  telemetryHz?: number;
  allowFaultInjection?: boolean;
  duration?: number;
  status?: boolean;
}

const defaultNodeName = () => hostname().replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40) || 'local';

function nodeConfig(o: RunNodeOptions): NodeConfig {
  const overrides: Record<string, unknown> = {};
  if (o.name !== undefined) overrides.name = o.name;
  if (o.prefix !== undefined) overrides.prefix = o.prefix;
  if (o.allowFaultInjection) overrides.allow_fault_injection = true;
  if (o.telemetryHz !== undefined) overrides.telemetry = { rate_hz: o.telemetryHz };
  if (o.config) {
    const fromFile = loadNodeConfig(o.config, overrides);
    return fromFile;
  }
  return parseNodeConfig({ name: defaultNodeName(), ...overrides }, 'command line');
}

/** Runs a node until a signal, a `stop` request or --duration; returns the exit code. */
export async function runNode(o: RunNodeOptions, log: Logger): Promise<number> {
  const config = nodeConfig(o);
  const dataDir = o.dataDir ?? defaultDataDir();
  const shutdown = new Shutdown(log);
  let exitCode = 0;
  try {
    let server: NatsServerHandle | undefined;
    let servers: string[];
    let pass: string;
    if (o.embedded && !o.nats) {
      server = await startNatsServer({ dataDir, port: o.natsPort, strictPort: o.natsPort !== undefined, wsPort: o.wsPort, prefix: config.prefix });
      let serverStopping = false;
      shutdown.add('nats-server', () => {
        serverStopping = true;
        return server!.stop();
      });
      servers = [server.url];
      pass = server.credentials.node;
      log.info({ url: server.url, ws: server.wsUrl, natsPid: server.pid, dataDir }, 'nats-server ready');
      void server.exited.then(({ code, signal }) => {
        if (serverStopping) return;
        log.error({ code, signal }, 'nats-server exited');
        exitCode = 1;
        shutdown.request('nats-server exited');
      });
    } else {
      if (!o.nats) throw new Error('skyvox node needs --nats URL');
      servers = o.nats.split(',');
      pass = readCredentials(dataDir, 'node');
    }
    const nc = await connectBus({ servers, user: 'node', pass, name: `skyvox-node-${config.name}` });
    shutdown.add('nats connection', () => nc.drain());
    const bus = new Bus(nc, { prefix: config.prefix, receiver: config.name, log });
    const node = new NodeSupervisor({
      config,
      bus,
      registry: actorRegistry(),
      log,
      onStopRequested: (why) => {
        if (why === 'failed') exitCode = 1;
        shutdown.request(why === 'ctl' ? 'stop requested over ctl' : 'node supervisor failed');
      },
    });
    await node.start();
    shutdown.add('node supervisor', () => node.stop());
    if (server) {
      const remove = writeRuntimeInfo(dataDir, { url: server.url, ws_url: server.wsUrl, pid: server.pid, prefix: config.prefix, node: config.name });
      shutdown.add('runtime file', remove);
    }
    log.info({ node: config.name, actors: node.list().length, ctl: bus.subjects.ctl(config.name) }, 'node up');
    process.stdout.write(
      `skyvox: node ${config.name} up on ${servers.join(',')}${server ? ` (websocket ${server.wsUrl})` : ''}; ` +
        `telemetry on ${bus.subjects.telemetryAll} at ${config.telemetry.rate_hz} Hz; Ctrl-C stops\n`,
    );
    if (o.duration !== undefined) {
      const t = setTimeout(() => shutdown.request(`duration ${o.duration} s elapsed`), o.duration * 1000);
      t.unref();
    }
    const statusTimer = o.status && process.stdout.isTTY ? setInterval(() => writeStatus(node, bus), 1000) : undefined;
    const reason = await shutdown.requested;
    if (statusTimer) clearInterval(statusTimer);
    log.info({ reason }, 'shutting down');
  } catch (err) {
    exitCode = 1;
    throw err;
  } finally {
    await shutdown.run();
  }
  return exitCode;
}

function writeStatus(node: NodeSupervisor, bus: Bus): void {
  const actors = node.list();
  const running = actors.filter((a) => a.status === 'running').length;
  const restarts = actors.reduce((n, a) => n + a.restarts, 0);
  const dropped = actors.reduce((n, a) => n + (a.stats?.dropped ?? 0), 0);
  const invalid = actors.reduce((n, a) => n + (a.stats?.invalid ?? 0), 0) + bus.stats.invalid;
  process.stdout.write(`\r${node.name}: actors ${running}/${actors.length} running · restarts ${restarts} · dropped ${dropped} · dead-lettered ${invalid}   `);
}
