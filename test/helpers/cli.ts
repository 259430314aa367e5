/** Runs the real `skyvox` command as a child process; every one started is killed after the test. */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { skyvoxArgs } from '../../cli/launcher.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const started = new Set<ChildProcess>();

export interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `skyvox ...args`; `detached` gives it its own process group (like a terminal job). */
export function skyvox(args: string[], options: { env?: NodeJS.ProcessEnv; detached?: boolean } = {}): Cli {
  const child = spawn(process.execPath, skyvoxArgs(args), {
    cwd: REPO,
    env: { ...process.env, SKYVOX_LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  started.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => {
      started.delete(child);
      res({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Runs to completion. */
export async function skyvoxRun(args: string[], options: { env?: NodeJS.ProcessEnv } = {}) {
  const cli = skyvox(args, options);
  const { code } = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** Kills whatever a test left running (mocha afterEach). */
export function killAll(): void {
  for (const c of started) c.kill('SIGKILL');
  started.clear();
}
