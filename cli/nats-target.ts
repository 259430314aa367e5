/** Where a CLI command finds NATS and its password: flags, then environment, then the data dir. */
import { resolve } from 'node:path';
import { type NatsUser, NATS_USERS, readCredentials } from '../bus/credentials.js';
import { readRuntimeInfo } from '../bus/nats-server.js';
import { DEFAULT_PREFIX } from '../bus/subjects.js';
import { UsageError } from './errors.js';

/** Default data dir: $SKYVOX_DATA_DIR, else ./.skyvox */
export const defaultDataDir = () => resolve(process.env.SKYVOX_DATA_DIR ?? '.skyvox');

export interface NatsTarget {
  servers: string[];
  user: NatsUser;
  pass: string;
  prefix: string;
}

/** Resolves the server URL(s), user and password for a client command. */
export function natsTarget(opts: { nats?: string; user?: string; dataDir?: string; prefix?: string }, defaultUser: NatsUser): NatsTarget {
  const dataDir = opts.dataDir ?? defaultDataDir();
  const user = (opts.user ?? defaultUser) as NatsUser;
  if (!NATS_USERS.includes(user)) throw new UsageError(`Expected --user to be one of ${NATS_USERS.join(', ')} but received "${opts.user}"`);
  const runtime = readRuntimeInfo(dataDir);
  const url = opts.nats ?? process.env.SKYVOX_NATS_URL ?? runtime?.url ?? 'nats://127.0.0.1:4222';
  return {
    servers: url.split(',').map((s) => s.trim()).filter(Boolean),
    user,
    pass: readCredentials(dataDir, user),
    prefix: opts.prefix ?? runtime?.prefix ?? DEFAULT_PREFIX,
  };
}
