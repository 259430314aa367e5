/** Voxel voting settings and ray batches, validated once in TypeScript (the native side trusts them). */
import { KernelArgumentError } from './motion-params.js';

export interface VoxelParams {
  /** Voxel size near the cameras (m); sizes are minVoxel·2^level. */
  minVoxel: number;
  /** ... never above this (m). */
  maxVoxel: number;
  /** Wanted voxel size = range from the nearest camera × lodRatio, clamped. */
  lodRatio: number;
  /** Level-map cell (m); every voxel size must divide it. */
  cell: number;
  /** [xmin, ymin, zmin, xmax, ymax, zmax] ENU metres: the airspace rays vote in. */
  worldBox: [number, number, number, number, number, number];
  /** Rays stop here (m). */
  maxRange: number;
  /** Weight kept per frame by voxels not hit again. */
  decay: number;
  /** Peaks need rays from this many distinct cameras around them. */
  minCameras: number;
  minWeight: number;
  /** Angular noise of one ray (rad), for the peak covariance. */
  raySigmaRad: number;
  /** Bytes of bricks at most; the least recently hit are evicted. */
  memoryBudget: number;
  /** Take the whole budget's bricks at construction (on a worker thread; the first frame waits for it), so no later frame waits for memory (the native grid). */
  preallocate: boolean;
  /**
   * Where the native cast and peak test run: `auto` on a CUDA device when the addon was built
   * with nvcc and one answers (the budget's bricks then live there), else on the CPU; `cpu`;
   * `cuda` (an error, saying why, without one). Both give the same peaks.
   */
  backend: 'auto' | 'cpu' | 'cuda';
  /**
   * Threads for the peak search of a frame with thousands of candidate voxels (a cold start's,
   * when every ray votes; a steady frame's stays on one); 0: every core. Same peaks for any
   * count. One by default: on the 2-vCPU development VM a second gave no measurable gain, and
   * a node runs many actors beside the voxel stage; raise it where cores are idle.
   */
  threads: number;
}

export const DEFAULT_VOXEL_PARAMS: VoxelParams = {
  minVoxel: 0.125,
  maxVoxel: 2,
  lodRatio: 0.0005,
  cell: 32,
  worldBox: [-2000, -2000, 0, 2000, 2000, 1500],
  maxRange: 6000,
  decay: 0.5,
  minCameras: 2,
  minWeight: 0,
  raySigmaRad: 1e-4,
  memoryBudget: 500 * 1024 * 1024,
  preallocate: false,
  backend: 'auto',
  threads: 1,
};

/** Fills defaults and checks every field. */
export function voxelParams(partial: Partial<VoxelParams> = {}): VoxelParams {
  // A misspelt setting would otherwise be ignored and its default used without a word.
  for (const k of Object.keys(partial)) {
    if (!Object.hasOwn(DEFAULT_VOXEL_PARAMS, k)) throw new KernelArgumentError(`Expected one of ${Object.keys(DEFAULT_VOXEL_PARAMS).join(', ')} but received the setting ${k}`);
  }
  const p = { ...DEFAULT_VOXEL_PARAMS, ...partial };
  const num = (k: keyof VoxelParams, ok: (v: number) => boolean, what: string) => {
    const v = p[k] as unknown;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new KernelArgumentError(`Expected ${what} for ${k} but received ${String(v)}`);
  };
  num('minVoxel', (v) => v > 0, 'a positive number');
  num('maxVoxel', (v) => v >= p.minVoxel && v / p.minVoxel <= 128, `a number in [minVoxel, 128·minVoxel]`);
  num('lodRatio', (v) => v >= 0, 'a number ≥ 0');
  num('cell', (v) => v > 0, 'a positive number');
  for (let l = 0; p.minVoxel * 2 ** l <= p.maxVoxel * (1 + 1e-12); l++) {
    const q = p.cell / (p.minVoxel * 2 ** l);
    if (Math.abs(q - Math.round(q)) > 1e-9) throw new KernelArgumentError(`Expected cell (${p.cell}) to be a multiple of every voxel size but ${p.minVoxel * 2 ** l} does not divide it`);
  }
  if (!Array.isArray(p.worldBox) || p.worldBox.length !== 6 || !p.worldBox.every(Number.isFinite) || ![0, 1, 2].every((a) => p.worldBox[a + 3]! > p.worldBox[a]!)) {
    throw new KernelArgumentError(`Expected [xmin, ymin, zmin, xmax, ymax, zmax] with max > min for worldBox but received ${JSON.stringify(p.worldBox)}`);
  }
  const cells = [0, 1, 2].reduce((n, a) => n * Math.ceil((p.worldBox[a + 3]! - p.worldBox[a]!) / p.cell), 1);
  if (cells > 2 ** 28) throw new KernelArgumentError(`Expected a worldBox of at most 2^28 cells of ${p.cell} m but it has ${cells}; raise cell or shrink the box`);
  num('maxRange', (v) => v > 0, 'a positive number');
  num('decay', (v) => v >= 0 && v < 1, 'a number in [0, 1)');
  num('minCameras', (v) => Number.isInteger(v) && v >= 1 && v <= 64, 'an integer in [1, 64]');
  num('minWeight', (v) => v >= 0, 'a number ≥ 0');
  num('raySigmaRad', (v) => v > 0, 'a positive number');
  num('memoryBudget', (v) => Number.isInteger(v) && v >= 1 << 20, 'an integer number of bytes ≥ 1 MiB');
  if (typeof p.preallocate !== 'boolean') throw new KernelArgumentError(`Expected true or false for preallocate but received ${String(p.preallocate)}`);
  num('threads', (v) => Number.isInteger(v) && v >= 0 && v <= 256, 'an integer in [0, 256] (0: every core)');
  if (!['auto', 'cpu', 'cuda'].includes(p.backend as string)) throw new KernelArgumentError(`Expected auto, cpu or cuda for backend but received ${String(p.backend)}`);
  return p;
}

/** A batch of rays: origins and unit directions (3 per ray), weights, camera indices (0–63). */
export interface RayBatch {
  origins: Float64Array;
  dirs: Float64Array;
  weights: Float32Array;
  cameras: Int32Array;
}

/** Checks a ray batch: matching lengths, finite values, unit directions, camera indices. */
export function checkRays(r: RayBatch): void {
  const n = r.weights.length;
  if (r.origins.length !== 3 * n || r.dirs.length !== 3 * n || r.cameras.length !== n) {
    throw new KernelArgumentError(`Expected 3n origins, 3n dirs and n cameras for n = ${n} weights but received ${r.origins.length}, ${r.dirs.length} and ${r.cameras.length}`);
  }
  for (let i = 0; i < n; i++) {
    const [x, y, z] = [r.dirs[3 * i]!, r.dirs[3 * i + 1]!, r.dirs[3 * i + 2]!];
    const len = Math.hypot(x, y, z);
    if (!Number.isFinite(len) || Math.abs(len - 1) > 1e-6) throw new KernelArgumentError(`Expected a unit direction for ray ${i} but received [${x}, ${y}, ${z}]`);
    if (![r.origins[3 * i]!, r.origins[3 * i + 1]!, r.origins[3 * i + 2]!].every(Number.isFinite)) throw new KernelArgumentError(`Expected a finite origin for ray ${i}`);
    if (!Number.isFinite(r.weights[i]!) || r.weights[i]! < 0) throw new KernelArgumentError(`Expected a weight ≥ 0 for ray ${i} but received ${r.weights[i]}`);
    const c = r.cameras[i]!;
    if (c < 0 || c > 63) throw new KernelArgumentError(`Expected a camera index in [0, 63] for ray ${i} but received ${c}`);
  }
}

/** A refined peak: position (ENU m), 3×3 covariance (m², row-major), weight, distinct cameras, level. */
export interface VoxelPeak {
  position: [number, number, number];
  covariance: number[];
  weight: number;
  cameras: number;
  level: number;
  /** The rays (indices into the batch) it was refined over: per camera, the one passing nearest. */
  rays: number[];
}

export interface VoxelOutput {
  peaks: VoxelPeak[];
  steps: number;
  bricks: number;
  bytes: number;
  evicted: number;
  lost: number;
}
