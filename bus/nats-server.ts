/** The embedded NATS server: find the binary, start it on loopback, wait until ready, stop it. */
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type GuardedProcess, spawnGuarded } from '../supervisors/os-process.js';
import { type Credentials, loadOrCreateCredentials, passwordEnvVar, NATS_USERS } from './credentials.js';
import { DEFAULT_PREFIX } from './subjects.js';

/** The repository's nats.conf. */
export const REPO_NATS_CONF = resolve(dirname(fileURLToPath(import.meta.url)), '../../nats.conf');

export const INSTALL_HINT =
  'nats-server not found: install it with `sudo apt-get install -y nats-server` (Debian/Ubuntu), or set SKYVOX_NATS_SERVER to its path';

/** Error when no nats-server binary can be found. */
export class NatsServerNotFoundError extends Error {
  override name = 'NatsServerNotFoundError';
  constructor() {
    super(INSTALL_HINT);
  }
}

/** Error when the server exits or stays silent before it is ready. */
export class NatsServerStartError extends Error {
  override name = 'NatsServerStartError';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Path of nats-server: $SKYVOX_NATS_SERVER, then PATH, then Debian's /usr/sbin and /usr/bin. */
export function findNatsServer(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.SKYVOX_NATS_SERVER;
  if (explicit) {
    if (isExecutable(explicit)) return explicit;
    throw new NatsServerNotFoundError();
  }
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'nats-server');
    if (isExecutable(candidate)) return candidate;
  }
  throw new NatsServerNotFoundError();
}

/** True when `port` on 127.0.0.1 can be bound now. */
export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => res(true)));
  });
}

/** A port the OS says is free right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export interface NatsServerOptions {
  dataDir: string;
  /** Client port; 0 picks a free one. Default 4222, or a free one when 4222 is taken. */
  port?: number;
  /** When true, a taken `port` is an error instead of a reason to pick another. */
  strictPort?: boolean;
  wsPort?: number;
  prefix?: string;
  configFile?: string;
  /** Listen address (default 127.0.0.1; a cluster across machines needs a reachable one). */
  host?: string;
  /** JetStream store (default <dataDir>/jetstream). */
  storeDir?: string;
  /** Joins a NATS cluster: this server's name, the cluster's name, its route port, the other servers' routes. */
  cluster?: { serverName: string; name: string; port: number; routes: string[] };
  readyTimeoutMs?: number;
  onLog?: (line: string) => void;
}

/** A running embedded server. `stop()` may be called any number of times. */
export interface NatsServerHandle {
  readonly url: string;
  readonly wsUrl: string;
  readonly port: number;
  readonly wsPort: number;
  readonly pid: number;
  readonly credentials: Credentials;
  readonly exited: GuardedProcess['exited'];
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What `skyvox up` leaves in the data dir so `tail` and `ctl` in another shell find the server. */
export interface RuntimeInfo {
  url: string;
  ws_url: string;
  pid: number;
  prefix: string;
  node?: string;
}

export const runtimeFile = (dataDir: string) => join(dataDir, 'runtime.json');

/** Reads the runtime file of a running `skyvox up`, or undefined. */
export function readRuntimeInfo(dataDir: string): RuntimeInfo | undefined {
  try {
    return JSON.parse(readFileSync(runtimeFile(dataDir), 'utf8')) as RuntimeInfo;
  } catch {
    return undefined;
  }
}

async function choosePort(requested: number | undefined, fallbackDefault: number, strict: boolean, what: string): Promise<number> {
  const port = requested ?? fallbackDefault;
  if (port === 0) return freePort();
  if (await portIsFree(port)) return port;
  if (strict || requested !== undefined) throw new NatsServerStartError(`Expected ${what} ${port} to be free on 127.0.0.1 but it is in use`);
  return freePort();
}

function effectiveConfig(configFile: string, prefix: string, dataDir: string): string {
  if (prefix === DEFAULT_PREFIX) return configFile;
  const text = readFileSync(configFile, 'utf8').replaceAll(`"${DEFAULT_PREFIX}.`, `"${prefix}.`);
  const out = join(dataDir, 'nats.conf');
  writeFileSync(out, text, { mode: 0o600 });
  return out;
}

/** Times a server whose ports were taken between choosing and binding them is started again. */
const PORT_ATTEMPTS = 3;

/** Spawns nats-server on these ports and waits until it is ready (or says why not). */
async function launch(binary: string, dataDir: string, credentials: Credentials, options: NatsServerOptions, port: number, wsPort: number): Promise<ReturnType<typeof spawnGuarded>> {
  const config = effectiveConfig(options.configFile ?? REPO_NATS_CONF, options.prefix ?? DEFAULT_PREFIX, dataDir);
  const env: NodeJS.ProcessEnv = { ...process.env, SKYVOX_WS_PORT: String(wsPort) };
  for (const user of NATS_USERS) env[passwordEnvVar(user)] = credentials[user];
  const host = options.host ?? '127.0.0.1';
  const args = ['-c', config, '-a', host, '-p', String(port), '-sd', options.storeDir ?? join(dataDir, 'jetstream')];
  const c = options.cluster;
  if (c) args.push('-n', c.serverName, '--cluster_name', c.name, '--cluster', `nats://${host}:${c.port}`, ...(c.routes.length ? ['--routes', c.routes.join(',')] : []));
  const proc = spawnGuarded(binary, args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  await new Promise<void>((res, rej) => {
    let buffered = '';
    const timer = setTimeout(() => {
      void proc.stop();
      rej(new NatsServerStartError(`nats-server was not ready within ${options.readyTimeoutMs ?? 10000} ms: ${tail.join(' | ')}`));
    }, options.readyTimeoutMs ?? 10000);
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        tail.push(line);
        if (tail.length > 8) tail.shift();
        options.onLog?.(line);
        if (line.includes('Server is ready')) {
          clearTimeout(timer);
          res();
        }
      }
    };
    proc.child.stdout?.on('data', onData);
    proc.child.stderr?.on('data', onData);
    void proc.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new NatsServerStartError(`nats-server exited (${signal ?? `code ${code}`}) before it was ready: ${tail.join(' | ')}`));
    });
  });
  return proc;
}

/** Starts nats-server on loopback with JetStream in `<dataDir>/jetstream`; resolves once it is ready. */
export async function startNatsServer(options: NatsServerOptions): Promise<NatsServerHandle> {
  const binary = findNatsServer();
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const credentials = loadOrCreateCredentials(dataDir);
  // A port found free may be taken before the server binds it (another process, another
  // test): ports skyvox chose itself are chosen again, a few times; ports asked for are not.
  const own = (requested: number | undefined) => requested === undefined || requested === 0;
  const start = async (attempt: number): Promise<{ proc: ReturnType<typeof spawnGuarded>; port: number; wsPort: number }> => {
    const port = await choosePort(options.port, 4222, options.strictPort ?? false, 'NATS port');
    const wsPort = await choosePort(options.wsPort, port === 4222 ? 4223 : 0, false, 'websocket port');
    try {
      return { proc: await launch(binary, dataDir, credentials, options, port, wsPort), port, wsPort };
    } catch (err) {
      const raced = err instanceof NatsServerStartError && /address already in use/.test(err.message) && own(options.port) && own(options.wsPort) && !options.cluster;
      if (!raced || attempt >= PORT_ATTEMPTS) throw err;
      return start(attempt + 1);
    }
  };
  const { proc, port, wsPort } = await start(1);
  const host = options.host ?? '127.0.0.1';
  const url = `nats://${host}:${port}`;
  const stop = async () => {
    await proc.stop();
  };
  return {
    url,
    wsUrl: `ws://127.0.0.1:${wsPort}`, // the websocket listener stays on loopback (nats.conf)
    port,
    wsPort,
    pid: proc.pid,
    credentials,
    exited: proc.exited,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Writes the runtime file; returns a function that removes it. */
export function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): () => void {
  const file = runtimeFile(dataDir);
  writeFileSync(file, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  return () => rmSync(file, { force: true });
}
