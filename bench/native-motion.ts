/**
 * Native motion kernel throughput at 1080p, 4K and 8K, on one thread and on all, against
 * baselines from the same run: the machine's memory copy speed (how fast one streaming pass
 * could go at best) and the TypeScript reference (1080p only; it is slow).
 */
import { cpus } from 'node:os';
import type { MotionParams } from '../kernels/motion-params.js';
import { MotionReference } from '../kernels/motion-reference.js';
import { MotionDetector, naiveMotionBaseline, nativeInfo, VoxelGrid } from '../kernels/native.js';
import { addGaussian } from '../sim/render.js';
import { Rng } from '../sim/rng.js';

const SIZES = [
  ['1080p', 1920, 1080],
  ['4K', 3840, 2160],
  ['8K', 7680, 4320],
] as const;

function frames(w: number, h: number, n: number): Uint8Array[] {
  const rng = new Rng(1);
  return Array.from({ length: n }, (_, k) => {
    const img = new Float32Array(w * h).fill(120);
    for (let i = 0; i < 50; i++) addGaussian(img, w, h, rng.uniform(0, w), rng.uniform(0, h), 1, k > 0 ? 300 : 0);
    const out = new Uint8Array(w * h);
    for (let i = 0; i < out.length; i++) out[i] = Math.round(img[i]! + 2 * rng.normal());
    return out;
  });
}

async function timeAsync(fn: (k: number) => Promise<unknown>, minMs: number): Promise<number> {
  await fn(0);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < 3) await fn(++n);
  return (performance.now() - t0) / n;
}

/**
 * Each buffer of the copy loop: far beyond any last-level cache, as the motion kernel's data
 * is (an 8K frame's background, hold counts and pixels are ≈ 200 MB). A buffer the size of one
 * 8K frame (33 MB) fits much of a 32 MB L3, and copied at 41 GB/s on a VM whose memory copies
 * at 27.
 */
const COPY_BYTES = 256 * 1024 * 1024;

/** Memory bandwidth as a copy loop sees it (bytes/s: one read and one write per byte copied). */
function copyBandwidth(minMs: number): number {
  const src = new Uint8Array(COPY_BYTES).fill(3);
  const dst = new Uint8Array(src.length);
  dst.set(src);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < 3) {
    dst.set(src);
    n++;
  }
  return (2 * src.length * n) / ((performance.now() - t0) / 1000);
}

/** `n` rays from the cameras in turn, in seeded random directions above the horizon. */
function benchRays(cams: readonly [number, number, number][], n: number) {
  const rng = new Rng(2);
  const o = new Float64Array(3 * n);
  const d = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    o.set(cams[i % cams.length]!, 3 * i);
    const v = [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.2, 1)];
    const m = Math.hypot(...v);
    d.set(v.map((x) => x / m), 3 * i);
  }
  return { origins: o, dirs: d, weights: new Float32Array(n).fill(1), cameras: Int32Array.from({ length: n }, (_, i) => i % cams.length) };
}

/** Rays a row starts with; fewer where their bricks would not fit the budget. */
const VOXEL_BENCH_RAYS = 200;

/**
 * Voxel casting: rays of a given length from four cameras into a box sized to hold them,
 * with the memory a dense grid of the finest voxels over the same box would need. Every
 * timed step votes: where one frame of the rays needs more bricks than the budget holds, the
 * votes that find none are lost — steps that touch no voxel memory and would flatter the
 * rate — so the row casts fewer rays until none is lost (`rays` says how many).
 */
async function voxelThroughput(minMs: number, backends: readonly ('cpu' | 'cuda')[]) {
  const rows = [];
  for (const backend of backends)
  for (const length of [100, 500, 1000, 2000, 5000]) {
    const half = length * 0.75;
    const cams: [number, number, number][] = [[-half * 0.9, -half * 0.9, 1], [half * 0.9, -half * 0.9, 1], [half * 0.9, half * 0.9, 1], [-half * 0.9, half * 0.9, 1]];
    let n = VOXEL_BENCH_RAYS;
    const fit = async () => {
      for (let attempt = 0; ; attempt++) {
        const grid = new VoxelGrid({ worldBox: [-half, -half, 0, half, half, length], maxRange: length, memoryBudget: 500 * 1024 * 1024, backend, threads: 1 });
        grid.setCameras(cams);
        const batch = benchRays(cams, n);
        const first = await grid.process(batch);
        if (first.lost === 0 || attempt === 5 || n <= 4) return { grid, batch, first };
        n = Math.max(4, Math.floor(n * (1 - first.lost / first.steps) * 0.9));
      }
    };
    const { grid, batch, first } = await fit();
    let steps = 0;
    let last = first;
    let k = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < minMs || k < 2) {
      last = await grid.process(batch);
      steps += last.steps;
      k++;
    }
    const s = (performance.now() - t0) / 1000;
    const dense = ((2 * half) / 0.125) * ((2 * half) / 0.125) * (length / 0.125) * 4;
    rows.push({ backend: grid.backend, ray_length_m: length, rays: n, rays_per_s: (n * k) / s, steps_per_s: steps / s, votes_lost_share: (last.lost - first.lost) / steps, bricks: last.bricks, bytes: last.bytes, dense_float_grid_bytes: dense, ratio_to_dense: last.bytes / dense });
  }
  return rows;
}

/**
 * A cold start's frame: nothing guides the association, so every detection's ray votes — rays
 * from four cameras to 400 objects, plus clutter — and the peak search visits thousands of
 * candidate voxels. Timed on one thread and on every core (`threads`), same peaks either way.
 */
async function voxelCrowdedFrame(minMs: number) {
  const rng = new Rng(21);
  const cams: [number, number, number][] = [[-600, -600, 3], [600, -600, 3], [600, 600, 3], [-600, 600, 3]];
  const targets = Array.from({ length: 400 }, () => [rng.uniform(-450, 450), rng.uniform(-450, 450), rng.uniform(80, 450)]);
  const o: number[] = [];
  const d: number[] = [];
  const c: number[] = [];
  cams.forEach((cam, i) => {
    const dirs = [...targets.map((t) => t.map((v, a) => v - cam[a]! + rng.normal() * 0.1)), ...Array.from({ length: 40 }, () => [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.1, 0.8)])];
    for (const v of dirs) {
      const m = Math.hypot(...v);
      o.push(...cam);
      d.push(...v.map((x) => x / m));
      c.push(i);
    }
  });
  const batch = { origins: Float64Array.from(o), dirs: Float64Array.from(d), weights: new Float32Array(c.length).fill(1), cameras: Int32Array.from(c) };
  const timed = async (threads: number) => {
    const grid = new VoxelGrid({ worldBox: [-700, -700, 0, 700, 700, 600], minCameras: 2, lodRatio: 0.01, minVoxel: 2, maxVoxel: 16, memoryBudget: 128 * 1024 * 1024, backend: 'cpu', threads });
    grid.setCameras(cams);
    const first = await grid.process(batch);
    return { ms: await timeAsync(() => grid.process(batch), minMs), peaks: first.peaks.length, steps: first.steps };
  };
  const one = await timed(1);
  const all = await timed(cpus().length);
  return { rays: c.length, steps: one.steps, peaks: one.peaks, ms_1_thread: one.ms, threads: cpus().length, ms_all_threads: all.ms, ratio_1_thread_to_all: one.ms / all.ms };
}

/** Runs the benchmark; returns a JSON-ready report. */
export async function nativeMotionThroughput(minMs: number): Promise<Record<string, unknown>> {
  const info = nativeInfo();
  const bandwidth = copyBandwidth(minMs);
  const rows = [];
  for (const [name, w, h] of SIZES) {
    const fs = frames(w, h, 6);
    // The scalar baseline on the same frames: |difference| > 5σ (σ = 2 DN), flood fill.
    const naiveMs = await timeAsync(async (k) => naiveMotionBaseline(fs[k % 6]!, fs[(k + 1) % 6]!, w, h, 10), minMs);
    // The CPU pass on one thread and on all; the CUDA twin too where a device answers.
    const runs: Partial<MotionParams>[] = [{ backend: 'cpu', threads: 1 }, { backend: 'cpu', threads: cpus().length }, ...(info.cuda ? [{ backend: 'cuda' as const }] : [])];
    for (const params of runs) {
      // The default warm-up, and then some: timed frames meet a converged noise estimate.
      const det = new MotionDetector(w, h, 1, params);
      for (let k = 0; k < 12; k++) await det.process(fs[k % 6]!);
      const ms = await timeAsync((k) => det.process(fs[k % 6]!), minMs);
      // Per pixel: the frame read (1 byte), the background read and written (4 + 4), the hold
      // counts read (1; written back only where they change, so not counted).
      const bytes = w * h * 10;
      rows.push({ size: name, backend: det.backend, threads: det.threads, ms, mpx_s: (w * h) / 1e3 / ms, bytes_per_s: bytes / (ms / 1000), fraction_of_copy_bandwidth: bytes / (ms / 1000) / bandwidth, naive_scalar_ms: naiveMs, ratio_to_naive_scalar: naiveMs / ms });
    }
  }
  const fs = frames(1920, 1080, 3);
  const ref = new MotionReference(1920, 1080, 1, { warmupFrames: 2 });
  for (let k = 0; k < 4; k++) ref.process(fs[k % 3]!);
  const refMs = await timeAsync(async (k) => ref.process(fs[k % 3]!), minMs);
  const native1080 = rows.find((r) => r.size === '1080p' && r.backend === 'cpu' && r.threads === 1)!;
  return {
    bench: 'native-motion',
    simd: info.simd,
    cuda: info.cuda,
    cuda_reason: info.reason,
    copy_bandwidth_bytes_per_s: bandwidth,
    copy_buffer_bytes: COPY_BYTES,
    results: rows,
    typescript_reference_1080p_ms: refMs,
    ratio_native_1thread_to_reference_1080p: refMs / native1080.ms,
    voxel: await voxelThroughput(minMs, info.cuda ? ['cpu', 'cuda'] : ['cpu']),
    voxel_crowded_frame: await voxelCrowdedFrame(minMs),
  };
}
