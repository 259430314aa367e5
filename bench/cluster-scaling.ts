/**
 * Scaling of batch work over 1, 2 and 3 nodes on this machine: a pixel-mode recording (made
 * here, with its videos) is processed by `skyvox process` while 1, 2 or 3 `skyvox node
 * --batch-workers 1` processes share the work queue. Runs are interleaved (1, 2, 3, 1, 2, 3…)
 * so drift in machine load hits each alike; the 1-node run is the baseline of the ratios.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer } from '../bus/nats-server.js';
import { skyvoxArgs } from '../cli/launcher.js';
import { spawnGuarded, type GuardedProcess } from '../supervisors/os-process.js';

export interface ScalingOptions {
  /** Seconds of the `quick` scenario recorded. */
  recordS: number;
  repeats: number;
  nodes: number[];
}

/** Runs `skyvox ARGS` to its end; rejects with its stderr tail on failure. */
async function skyvox(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const p = spawnGuarded(process.execPath, skyvoxArgs(args), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKYVOX_LOG_LEVEL: 'warn', ...env } });
  let out = '';
  let err = '';
  p.child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const { code } = await p.exited;
  if (code !== 0) throw new Error(`skyvox ${args[0]} exited ${code}: ${err}`);
  return out;
}

/** Starts a worker node and resolves once it is up. */
async function workerNode(url: string, dataDir: string, name: string): Promise<GuardedProcess> {
  const p = spawnGuarded(process.execPath, skyvoxArgs(['node', '--nats', url, '--name', name, '--batch-workers', '1', '--data-dir', dataDir]), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKYVOX_LOG_LEVEL: 'warn' } });
  await new Promise<void>((res, rej) => {
    let out = '';
    p.child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/ up on /.test(out)) res();
    });
    void p.exited.then(({ code }) => rej(new Error(`node ${name} exited ${code}`)));
  });
  return p;
}

interface JobRecord {
  task: string;
  event: string;
  t_ns: string;
  items: number;
  node: string;
}

/** Processes the recording with `n` worker nodes; times from the job's own records. */
async function run(url: string, dataDir: string, rec: string, out: string, n: number) {
  const nodes = await Promise.all(Array.from({ length: n }, (_, i) => workerNode(url, dataDir, `bench-${i + 1}`)));
  try {
    const began = performance.now();
    await skyvox(['process', rec, '--nats', url, '--data-dir', dataDir, '--workers', '0', '--out', out]);
    const wallS = (performance.now() - began) / 1000;
    const job = JSON.parse(readFileSync(join(out, 'job.json'), 'utf8')) as { tasks: Record<string, JobRecord[]> };
    const all = Object.values(job.tasks).flat();
    const t = (r: JobRecord) => Number(BigInt(r.t_ns) / 1000n) / 1e6;
    const motion = all.filter((r) => r.task.startsWith('motion'));
    const motionS = Math.max(...motion.filter((r) => r.event === 'done').map(t)) - Math.min(...motion.filter((r) => r.event === 'started').map(t));
    const frames = motion.filter((r) => r.event === 'done').reduce((a, r) => a + r.items, 0);
    const track = all.filter((r) => r.task === 'track');
    const trackS = t(track.find((r) => r.event === 'done')!) - t(track.find((r) => r.event === 'started')!);
    return { nodes: n, wall_s: wallS, motion_s: motionS, track_s: trackS, frames, motion_frames_per_s: frames / motionS, nodes_used: new Set(motion.map((r) => r.node)).size };
  } finally {
    await Promise.all(nodes.map((p) => p.stop(5000)));
  }
}

/** The benchmark: JSON with each configuration's medians and speed-ups over one node. */
export async function clusterScaling(o: ScalingOptions): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'skyvox-bench-scaling-'));
  const server = await startNatsServer({ dataDir: join(dir, 'data'), port: 0, wsPort: 0 });
  try {
    const rec = join(dir, 'rec');
    await skyvox(['up', '--scenario', 'quick', '--duration', String(o.recordS), '--record', rec, '--record-video', '--nats-port', '0', '--ws-port', '0', '--data-dir', join(dir, 'live'), '--no-status']);
    const runs: Awaited<ReturnType<typeof run>>[] = [];
    for (let i = 0; i < o.repeats; i++) for (const n of o.nodes) runs.push(await run(server.url, join(dir, 'data'), rec, join(dir, `out-${n}-${i}`), n));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const by = (n: number) => runs.filter((r) => r.nodes === n);
    const base = median(by(o.nodes[0]!).map((r) => r.motion_s));
    const baseWall = median(by(o.nodes[0]!).map((r) => r.wall_s));
    return {
      bench: 'cluster-scaling',
      cores: cpus().length,
      workload: `skyvox process of ${o.recordS} s of the quick scenario (4 cameras, pixel mode): one motion task per camera, then one track task`,
      repeats: o.repeats,
      configurations: o.nodes.map((n) => ({
        nodes: n,
        motion_s: median(by(n).map((r) => r.motion_s)),
        track_s: median(by(n).map((r) => r.track_s)),
        wall_s: median(by(n).map((r) => r.wall_s)),
        motion_frames_per_s: median(by(n).map((r) => r.motion_frames_per_s)),
        nodes_used: median(by(n).map((r) => r.nodes_used)),
        motion_speedup_vs_1: base / median(by(n).map((r) => r.motion_s)),
        wall_speedup_vs_1: baseWall / median(by(n).map((r) => r.wall_s)),
      })),
      runs,
    };
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
