/**
 * Passwords of the three NATS users (node, viewer, admin). They come from the environment,
 * else from `<dataDir>/credentials.json` (mode 0600), generated on first use. Never committed.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NATS_USERS = ['node', 'viewer', 'admin'] as const;
export type NatsUser = (typeof NATS_USERS)[number];
export type Credentials = Record<NatsUser, string>;

/** Environment variable holding a user's password, e.g. SKYVOX_VIEWER_PASSWORD. */
export const passwordEnvVar = (user: NatsUser) => `SKYVOX_${user.toUpperCase()}_PASSWORD`;

// nats.conf reads passwords as $VARIABLES; a value of other characters could be re-parsed.
const SAFE_PASSWORD = /^[A-Za-z][A-Za-z0-9_-]{11,}$/;

/** Error for a credential that is missing, unsafe or unreadable. */
export class CredentialsError extends Error {
  override name = 'CredentialsError';
}

function checkPassword(source: string, value: unknown): string {
  if (typeof value !== 'string' || !SAFE_PASSWORD.test(value)) {
    throw new CredentialsError(
      `Expected ${source} to be a password of at least 12 letters, digits, "_" or "-", starting with a letter, but received ${typeof value === 'string' ? `${value.length} characters` : typeof value}`,
    );
  }
  return value;
}

const generate = () => `sv${randomBytes(18).toString('base64url')}`;

export const credentialsFile = (dataDir: string) => join(dataDir, 'credentials.json');

/** Loads credentials (env first, then the file), creating the file with fresh passwords if absent. */
export function loadOrCreateCredentials(dataDir: string, env: NodeJS.ProcessEnv = process.env): Credentials {
  const file = credentialsFile(dataDir);
  let stored: Partial<Credentials> = {};
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) throw new CredentialsError(`Expected ${file} to have mode 0600 but it has ${mode.toString(8).padStart(4, '0')}; run: chmod 600 ${file}`);
    try {
      stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>;
    } catch (err) {
      throw new CredentialsError(`Expected ${file} to hold JSON credentials: ${(err as Error).message}`);
    }
  }
  const creds = {} as Credentials;
  let changed = false;
  for (const user of NATS_USERS) {
    const fromEnv = env[passwordEnvVar(user)];
    if (fromEnv !== undefined) creds[user] = checkPassword(passwordEnvVar(user), fromEnv);
    else if (stored[user] !== undefined) creds[user] = checkPassword(`${file}: ${user}`, stored[user]);
    else {
      creds[user] = generate();
      stored[user] = creds[user];
      changed = true;
    }
  }
  if (changed) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  }
  return creds;
}

/** Reads credentials without creating any; a missing user is an error that says where to look. */
export function readCredentials(dataDir: string, user: NatsUser, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env[passwordEnvVar(user)];
  if (fromEnv !== undefined) return fromEnv;
  const file = credentialsFile(dataDir);
  if (!existsSync(file)) {
    throw new CredentialsError(`No password for NATS user "${user}": set ${passwordEnvVar(user)} or start \`skyvox up\` once with data dir ${dataDir}`);
  }
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Credentials>;
  const value = stored[user];
  if (typeof value !== 'string') throw new CredentialsError(`Expected ${file} to hold a password for "${user}"`);
  return value;
}
