/**
 * Child processes that never outlive skyvox: each is killed on normal exit, on signals, and —
 * through a watchdog that holds a pipe from us — even when this process is SIGKILLed.
 */
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous; kill() is.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/** A spawned child with a watchdog; `stop` sends SIGTERM, then SIGKILL after `graceMs`. */
export interface GuardedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(graceMs?: number): Promise<void>;
}

/** Spawns `command` so that it dies with this process whatever way this process ends. */
export function spawnGuarded(command: string, args: readonly string[], options: SpawnOptions = {}): GuardedProcess {
  installExitHook();
  // Own process group: a terminal's Ctrl-C reaches skyvox only, which then stops children in order.
  const child = spawn(command, args, { ...options, detached: true });
  if (child.pid === undefined) {
    // spawn failures also surface as an 'error' event; it is reported here as a throw instead.
    child.once('error', () => {});
    throw new Error(`could not start ${command}: not found or not executable`);
  }
  const pid = child.pid;
  live.add(child);
  // The watchdog blocks reading its stdin, which only we hold open; when we die it reads EOF.
  const watchdog = spawn('/bin/sh', ['-c', `read _ignored; kill -TERM ${pid} 2>/dev/null; sleep 2; kill -KILL ${pid} 2>/dev/null; exit 0`], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  watchdog.unref();
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      watchdog.kill('SIGKILL');
      resolve({ code, signal });
    });
  });
  let stopping: Promise<void> | undefined;
  return {
    child,
    pid,
    exited,
    stop(graceMs = 5000) {
      stopping ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** True when a process with this pid exists (signal 0 probe). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
