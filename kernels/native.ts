/**
 * The native addon (native/src/addon.cpp), loaded once, with a loader that says why it did
 * not load. Arguments are validated here; the addon trusts them.
 */
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkFrameSpec, KernelArgumentError, type MotionBlob, type MotionOutput, type MotionParams, motionParams, type ResolvedMotionParams, winsorCorrection } from './motion-params.js';
import type { RenderPlan } from './render-plan.js';
import { checkRays, type RayBatch, type VoxelOutput, type VoxelParams, voxelParams } from './voxel-params.js';

interface NativeMotion {
  process(frame: Uint8Array): Promise<{ count: number; overflow: number; foregroundPixels: number; warmingUp: boolean; coded: boolean; blobs: ArrayBuffer }>;
  readonly threads: number;
  readonly backend: 'cpu' | 'cuda';
}
interface NativeVoxel {
  setCameras(centres: Float64Array): void;
  preallocate(): Promise<void>;
  process(o: Float64Array, d: Float64Array, w: Float32Array, c: Int32Array): Promise<{ peaks: ArrayBuffer; rays: ArrayBuffer; steps: number; bricks: number; bytes: number; evicted: number; lost: number }>;
  readonly backend: 'cpu' | 'cuda';
}
interface NativeRendererImpl {
  render(out: Uint8Array, o: Record<string, number>, grid: Float32Array, clouds: Float64Array, gaussians: Float64Array, hot: Int32Array, dead: Int32Array, noise: Float32Array): Promise<void>;
}
interface NativeModule {
  Renderer: new () => NativeRendererImpl;
  MotionDetector: new (w: number, h: number, bpp: number, p: ResolvedMotionParams) => NativeMotion;
  VoxelGrid: new (p: Omit<VoxelParams, 'worldBox'> & { worldBox: Float64Array }) => NativeVoxel;
  info(): { simd: string; cuda: boolean; cudaBuilt: boolean; cudaReason: string; voxelBrickBytes: number };
  naiveMotion(prev: Uint8Array, cur: Uint8Array, w: number, h: number, threshold: number): number;
}

const ADDON = resolve(dirname(fileURLToPath(import.meta.url)), '../../build/Release/skyvox_native.node');

/** The addon could not be loaded; the message says which file and why. */
export class NativeUnavailableError extends Error {
  override name = 'NativeUnavailableError';
}

let loaded: NativeModule | undefined;
let failure: Error | undefined;

/** The addon, or throws NativeUnavailableError explaining what is missing. */
export function native(): NativeModule {
  if (loaded) return loaded;
  if (failure) throw failure;
  try {
    loaded = createRequire(import.meta.url)(ADDON) as NativeModule;
    return loaded;
  } catch (err) {
    failure = new NativeUnavailableError(`the native addon ${ADDON} did not load (${(err as Error).message.split('\n')[0]}); build it with \`npm ci\` or \`npm run install\` (needs g++ and make)`, { cause: err });
    throw failure;
  }
}

/** Which paths the native kernels take here, and why. */
export function nativeInfo(): { addon: string; loaded: boolean; simd?: string; cuda?: boolean; cudaBuilt?: boolean; reason?: string; voxelBrickBytes?: number } {
  try {
    const i = native().info();
    return { addon: ADDON, loaded: true, simd: i.simd, cuda: i.cuda, cudaBuilt: i.cudaBuilt, reason: i.cudaReason, voxelBrickBytes: i.voxelBrickBytes };
  } catch (err) {
    return { addon: ADDON, loaded: false, reason: (err as Error).message };
  }
}

const FLOATS_PER_BLOB = 13; // 9 floats then 4 int32 (the box), as native Blob

/** Motion extraction for one camera on the native CPU path. One frame at a time. */
export class MotionDetector {
  readonly width: number;
  readonly height: number;
  readonly bytesPerPixel: 1 | 2;
  readonly params: MotionParams;
  readonly #impl: NativeMotion;

  constructor(width: number, height: number, bytesPerPixel: 1 | 2, params: Partial<MotionParams> = {}) {
    checkFrameSpec(width, height, bytesPerPixel);
    this.width = width;
    this.height = height;
    this.bytesPerPixel = bytesPerPixel;
    this.params = motionParams(params);
    this.#impl = new (native().MotionDetector)(width, height, bytesPerPixel, { ...this.params, noiseCorrection: winsorCorrection(this.params.kLow), noiseHoldFrames: this.params.noiseHoldFrames === 'auto' ? -1 : this.params.noiseHoldFrames });
  }

  get threads(): number {
    return this.#impl.threads;
  }

  /** Where the pixel pass runs: `cuda` or `cpu`. */
  get backend(): 'cpu' | 'cuda' {
    return this.#impl.backend;
  }

  /** Processes a frame (which must stay unchanged until the promise settles). */
  async process(frame: Uint8Array): Promise<MotionOutput> {
    if (!(frame instanceof Uint8Array)) throw new KernelArgumentError(`Expected a Uint8Array for frame but received ${typeof frame}`);
    const need = this.width * this.height * this.bytesPerPixel;
    if (frame.byteLength !== need) throw new KernelArgumentError(`Expected ${need} bytes for the frame but received ${frame.byteLength}`);
    // Captured here so a native failure points at the caller, not at the event loop.
    const site = new Error();
    let r: Awaited<ReturnType<NativeMotion['process']>>;
    try {
      r = await this.#impl.process(frame);
    } catch (err) {
      const e = new Error(`motion kernel failed: ${(err as Error).message}`, { cause: err });
      e.stack = `${e.name}: ${e.message}\n${site.stack?.split('\n').slice(1).join('\n')}`;
      throw e;
    }
    const f = new Float32Array(r.blobs);
    const box = new Int32Array(r.blobs);
    const blobs: MotionBlob[] = [];
    for (let i = 0; i < r.count; i++) {
      const o = i * FLOATS_PER_BLOB;
      blobs.push({ x: f[o]!, y: f[o + 1]!, varX: f[o + 2]!, varY: f[o + 3]!, covXY: f[o + 4]!, flux: f[o + 5]!, area: f[o + 6]!, snr: f[o + 7]!, peak: f[o + 8]!, x0: box[o + 9]!, y0: box[o + 10]!, x1: box[o + 11]!, y1: box[o + 12]! });
    }
    return { blobs, overflow: r.overflow, foregroundPixels: r.foregroundPixels, warmingUp: r.warmingUp, coded: r.coded };
  }
}

/** Sparse voxel voting on the native path (CPU, or a CUDA device: `backend`). One frameset at a time. */
export class VoxelGrid {
  readonly params: VoxelParams;
  readonly #impl: NativeVoxel;
  /** The memory budget being taken on a worker thread (`preallocate`): settles with its error, if any. */
  #taking: Promise<Error | undefined> | undefined;

  constructor(params: Partial<VoxelParams> = {}) {
    this.params = voxelParams(params);
    this.#impl = new (native().VoxelGrid)({ ...this.params, worldBox: Float64Array.from(this.params.worldBox) });
    // Off the event loop: touching the budget's pages takes 15–250 ms (more on a VM), which
    // would stall every actor of the process — a voxel actor restarted beside a tracker.
    if (this.params.preallocate) this.#taking = this.#impl.preallocate().then(() => undefined, (err: unknown) => err as Error);
  }

  /** Where the cast and peak test run: `cuda` or `cpu`. */
  get backend(): 'cpu' | 'cuda' {
    return this.#impl.backend;
  }

  /** Settles once a preallocated budget is taken (at once without one); a failure to take it is the first process() call's error. */
  async ready(): Promise<void> {
    await this.#taking;
  }

  /** Camera centres (ENU m) set the level of detail: voxels grow with range from the nearest. */
  setCameras(centres: readonly (readonly [number, number, number])[]): void {
    if (!centres.every((c) => c.length === 3 && c.every(Number.isFinite))) throw new KernelArgumentError('Expected finite [x, y, z] camera centres');
    this.#impl.setCameras(Float64Array.from(centres.flat()));
  }

  /** Decays older votes, casts this frameset's rays, and returns the refined peaks. */
  async process(rays: RayBatch): Promise<VoxelOutput> {
    checkRays(rays);
    if (this.#taking) {
      const err = await this.#taking;
      this.#taking = undefined;
      // Not fatal: the grid then takes bricks as frames need them.
      if (err) throw new Error(`voxel grid could not take its memory budget (${this.params.memoryBudget} bytes): ${err.message}`, { cause: err });
    }
    const r = await this.#impl.process(rays.origins, rays.dirs, rays.weights, rays.cameras);
    const v = new Float64Array(r.peaks);
    const list = new Int32Array(r.rays);
    const peaks = [];
    for (let i = 0, at = 0; i + 15 < v.length; i += 16) {
      const rayCount = v[i + 15]!;
      peaks.push({ position: [v[i]!, v[i + 1]!, v[i + 2]!] as [number, number, number], covariance: Array.from(v.subarray(i + 3, i + 12)), weight: v[i + 12]!, cameras: v[i + 13]!, level: v[i + 14]!, rays: Array.from(list.subarray(at, at + rayCount)) });
      at += rayCount;
    }
    return { peaks, steps: r.steps, bricks: r.bricks, bytes: r.bytes, evicted: r.evicted, lost: r.lost };
  }
}

/** The simulator's pixel loops on the native path (all cores), for one camera. */
export class NativeRenderer {
  readonly threads: number;
  readonly #impl: NativeRendererImpl;

  constructor(threads = 0) {
    if (!Number.isInteger(threads) || threads < 0) throw new KernelArgumentError(`Expected an integer ≥ 0 for threads but received ${threads}`);
    this.threads = threads;
    this.#impl = new (native().Renderer)();
  }

  /** Renders `plan` into `out` (which must stay untouched until the promise settles). */
  render(plan: RenderPlan, noise: Float32Array, out: Uint8Array): Promise<void> {
    const need = plan.width * plan.height * (plan.bitDepth > 8 ? 2 : 1);
    if (out.byteLength !== need) throw new KernelArgumentError(`Expected ${need} bytes for the frame but received ${out.byteLength}`);
    if (!(plan.noiseWalk2 > 0 && plan.noiseWalk2 <= noise.length && plan.noiseAt < noise.length && plan.noiseAt2 < plan.noiseWalk2)) {
      throw new KernelArgumentError(`Expected noise walks inside the table of ${noise.length} values but received at ${plan.noiseAt}, at2 ${plan.noiseAt2} of ${plan.noiseWalk2}`);
    }
    const o = { width: plan.width, height: plan.height, bitDepth: plan.bitDepth, skyDn: plan.skyDn, grid: plan.grid, readNoiseDn: plan.readNoiseDn, gainEPerDn: plan.gainEPerDn, noiseAt: plan.noiseAt, noiseAt2: plan.noiseAt2, noiseWalk2: plan.noiseWalk2, threads: this.threads };
    return this.#impl.render(out, o, plan.skyGrid, plan.clouds, plan.gaussians, plan.hot, plan.dead, noise);
  }
}

/** The benchmark's scalar baseline (frame difference, threshold, flood fill); returns the blob count. */
export function naiveMotionBaseline(prev: Uint8Array, cur: Uint8Array, width: number, height: number, threshold: number): number {
  checkFrameSpec(width, height, 1);
  if (prev.byteLength !== width * height || cur.byteLength !== width * height) throw new KernelArgumentError(`Expected ${width * height} bytes per frame but received ${prev.byteLength} and ${cur.byteLength}`);
  return native().naiveMotion(prev, cur, width, height, threshold);
}
