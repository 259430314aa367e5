/**
 * A scenario's sources in a process of their own: `skyvox node --sources-only`, started and
 * stopped by the run that needs them. A real site's cameras are not in the pipeline's process
 * either, and the simulator's allocations (a quarter of a ring10 run's) and its work no longer
 * fall on the pipeline's main thread and collector: over five pairs of interleaved 60 s ring10
 * runs on a 2-vCPU VM, the p99 went from 34.6–83.6 to 31.7–65.8 ms, lower in each pair
 * (README, ring10 note). On a light scenario it costs the pipeline a wake-up per frame instead
 * (valley6's p50 ≈ 1 ms later; README note ⁴).
 */
import { createInterface } from 'node:readline';
import { passwordEnvVar } from '../bus/credentials.js';
import type { Logger } from '../supervisors/log.js';
import { type GuardedProcess, spawnGuarded } from '../supervisors/os-process.js';
import { skyvoxArgs } from './launcher.js';

/** Where a run's sources play: in its own process, or in a process of their own. */
export type SourcesPlacement = 'inline' | 'process';

export interface SourcesProcessOptions {
  servers: readonly string[];
  /** The NATS `node` user's password, passed on in the environment. */
  pass: string;
  dataDir: string;
  /** The node name of the sources process. */
  name: string;
  prefix: string;
  scenario: string;
  speed: number;
  /** Seconds after which the sources process stops (its scenario ends by itself before). */
  duration?: number;
  /** Seconds of its scenario it plays to itself before its clock starts (`--warm-up`; its default when absent). */
  warmUp?: number;
  /** Where it writes its actors' counters at the end. */
  actorTotals?: string;
  /** How long it may take to come up (ms). */
  startMs?: number;
}

/** A started sources process. */
export interface SourcesProcess {
  readonly pid: number;
  readonly node: string;
  readonly exited: GuardedProcess['exited'];
  /** Stops it (SIGTERM, then SIGKILL after a grace period) and waits for its exit. */
  stop(): Promise<void>;
}

/** Starts the sources process and resolves once its node is up (its sources then start); its log lines join this process's stderr. */
export async function startSourcesProcess(o: SourcesProcessOptions, log: Logger): Promise<SourcesProcess> {
  const args = ['node', '--nats', o.servers.join(','), '--data-dir', o.dataDir, '--name', o.name, '--prefix', o.prefix, '--scenario', o.scenario, '--sources-only', '--speed', String(o.speed), ...(o.duration === undefined ? [] : ['--duration', String(o.duration)]), ...(o.warmUp === undefined ? [] : ['--warm-up', String(o.warmUp)]), ...(o.actorTotals === undefined ? [] : ['--actor-totals', o.actorTotals])];
  const proc = spawnGuarded(process.execPath, skyvoxArgs(args), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, [passwordEnvVar('node')]: o.pass } });
  const tail: string[] = [];
  createInterface({ input: proc.child.stderr! }).on('line', (line) => {
    process.stderr.write(`${line}\n`);
    tail.push(line);
    if (tail.length > 5) tail.shift();
  });
  const up = new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.child.stdout! }).on('line', (line) => {
      if (line.includes(`node ${o.name} up`)) resolve();
    });
    void proc.exited.then(({ code, signal }) => reject(new Error(`the sources process exited before it was up (${signal ?? `code ${code}`}): ${tail.join(' | ')}`)));
  });
  const startMs = o.startMs ?? 30_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([up, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`the sources process was not up within ${startMs} ms: ${tail.join(' | ')}`)), startMs)))]);
  } catch (err) {
    await proc.stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  log.info({ pid: proc.pid, node: o.name }, 'sources process up');
  return { pid: proc.pid, node: o.name, exited: proc.exited, stop: () => proc.stop() };
}
