/** Motion kernel settings, validated once in TypeScript (the native side trusts them). */

export interface MotionParams {
  /** Background learning rate of background pixels. */
  alpha: number;
  /** ... and of pixels inside the mask, so slow targets are not absorbed. */
  alphaForeground: number;
  /** Masked pixels learn at alphaForeground for at most this many frames in a row (then ghosts fade). */
  foregroundHoldFrames: number;
  /** A blob needs one pixel above kHigh·σ ... */
  kHigh: number;
  /** ... and grows over 8-connected pixels above kLow·σ (hysteresis). */
  kLow: number;
  /** Learning rate of the per-tile noise variance. */
  noiseAlpha: number;
  /**
   * A tile's noise estimate holds its recent frames' largest variance, decaying by e every this
   * many frames (0: the running mean alone). 'auto' (default): CODED_HOLD_FRAMES while the frames
   * look like coded video (most sampled 8×8 blocks repeat the last frame exactly), else 0.
   */
  noiseHoldFrames: number | 'auto';
  /** Floor of σ in DN. */
  minSigma: number;
  /** Noise tiles are tile × tile pixels. */
  tile: number;
  /** Frames that only train the model; the first of them measures each tile's noise outright. */
  warmupFrames: number;
  /** Blobs beyond this many (weakest first) are counted as overflow. */
  maxBlobs: number;
  /** Width (px) of the Gaussian window that refines centroids. */
  psfSigma: number;
  centroidIterations: number;
  /** Moments use the blob's box grown by this many pixels. */
  windowMargin: number;
  /** Worker threads of the native CPU path (0: all cores). */
  threads: number;
  /**
   * Where the native pixel pass runs: `auto` on a CUDA device when the addon was built with
   * nvcc and one answers, else on the CPU; `cpu`; `cuda` (an error, saying why, without one).
   * Both give the same blobs.
   */
  backend: 'auto' | 'cpu' | 'cuda';
  /**
   * A blob whose excess over the background is not also a contrast against its surroundings in
   * the current frame (less than this share of its flux) is a ghost — the background still
   * holding an object that has left — and is not reported (0: keep every blob).
   */
  ghostRatio: number;
  /** Width (px) of the ring around a blob's box that gives its surroundings. */
  ghostRing: number;
  /**
   * Stationary point targets: a pixel above the mean of the ring of pixels `stationaryRing`
   * away by more than kStationary·σ — no ring pixel halfway up to it (not an edge), its 3×3 mean
   * at least `stationaryCompactness` of its contrast (not a lone hot pixel) — teaches the
   * background its ring's mean instead of itself, as do its 8 neighbours; so a target that
   * hovers from the first frame on is not learned as sky (0: off).
   */
  kStationary: number;
  stationaryRing: number;
  stationaryCompactness: number;
}

export const DEFAULT_MOTION_PARAMS: MotionParams = {
  alpha: 0.05,
  alphaForeground: 0.005,
  foregroundHoldFrames: 50,
  kHigh: 5,
  kLow: 3,
  noiseAlpha: 0.05,
  noiseHoldFrames: 'auto',
  minSigma: 0.5,
  tile: 16,
  warmupFrames: 8,
  maxBlobs: 4096,
  psfSigma: 1,
  centroidIterations: 5,
  windowMargin: 2,
  threads: 0,
  backend: 'auto',
  ghostRatio: 0.2,
  ghostRing: 2,
  kStationary: 4,
  stationaryRing: 3,
  stationaryCompactness: 0.25,
};

/** Error for a kernel argument out of range; names it and shows the value. */
export class KernelArgumentError extends RangeError {
  override name = 'KernelArgumentError';
}

const describe = (v: unknown) => `${typeof v === 'string' ? JSON.stringify(v) : String(v)} of type ${typeof v}`;

/** 1 / E[min(Z², k²)] for a standard normal Z: undoes the bias of a noise variance winsorised at k·σ. */
export function winsorCorrection(k: number): number {
  const phi = Math.exp(-0.5 * k * k) / Math.sqrt(2 * Math.PI);
  let cdf = 0.5;
  // Φ(k) by integrating φ with Simpson's rule on a fine grid: deterministic and accurate to 1e-12.
  const n = 2000;
  const h = k / n;
  let acc = 0;
  for (let i = 0; i <= n; i++) {
    const x = i * h;
    const f = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    acc += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * f;
  }
  cdf += (acc * h) / 3;
  return 1 / (2 * cdf - 1 - 2 * k * phi + 2 * k * k * (1 - cdf));
}

/** Coded-video detection (noiseHoldFrames 'auto'; native: kCodedBlock, kCodedSampleRows, kCodedRate, kCodedShare, kCodedHoldFrames). */
export const CODED = { block: 8, sampleRows: 16, rate: 0.1, share: 0.5, holdFrames: 10 } as const;

/** Settings as the native kernel takes them: validated, with derived constants. */
export type ResolvedMotionParams = MotionParams & { noiseCorrection: number };

/** Fills defaults and checks every field. */
export function motionParams(partial: Partial<MotionParams> = {}): MotionParams {
  const p = { ...DEFAULT_MOTION_PARAMS, ...partial };
  const num = (k: keyof MotionParams, ok: (v: number) => boolean, what: string) => {
    const v = p[k] as unknown;
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new KernelArgumentError(`Expected ${what} for ${k} but received ${describe(v)}`);
  };
  const int = (v: number) => Number.isInteger(v);
  num('alpha', (v) => v > 0 && v <= 1, 'a number in (0, 1]');
  num('alphaForeground', (v) => v >= 0 && v <= 1, 'a number in [0, 1]');
  num('foregroundHoldFrames', (v) => int(v) && v >= 0 && v <= 254, 'an integer in [0, 254]');
  num('kLow', (v) => v > 0, 'a positive number');
  num('kHigh', (v) => v >= p.kLow, `a number ≥ kLow (${p.kLow})`);
  num('noiseAlpha', (v) => v > 0 && v <= 1, 'a number in (0, 1]');
  if (p.noiseHoldFrames !== 'auto') num('noiseHoldFrames', (v) => int(v) && v >= 0, "an integer ≥ 0 or 'auto'");
  num('minSigma', (v) => v > 0, 'a positive number');
  num('tile', (v) => int(v) && v >= 4 && v <= 256, 'an integer in [4, 256]');
  num('warmupFrames', (v) => int(v) && v >= 1, 'an integer ≥ 1');
  num('maxBlobs', (v) => int(v) && v >= 0, 'an integer ≥ 0');
  num('psfSigma', (v) => v >= 0.3 && v <= 20, 'a number in [0.3, 20]');
  num('centroidIterations', (v) => int(v) && v >= 0 && v <= 50, 'an integer in [0, 50]');
  num('windowMargin', (v) => int(v) && v >= 0 && v <= 16, 'an integer in [0, 16]');
  num('threads', (v) => int(v) && v >= 0 && v <= 256, 'an integer in [0, 256]');
  if (!['auto', 'cpu', 'cuda'].includes(p.backend as string)) throw new KernelArgumentError(`Expected auto, cpu or cuda for backend but received ${describe(p.backend)}`);
  num('ghostRatio', (v) => v >= 0 && v <= 1, 'a number in [0, 1]');
  num('ghostRing', (v) => int(v) && v >= 1 && v <= 16, 'an integer in [1, 16]');
  num('kStationary', (v) => v >= 0, 'a number ≥ 0 (0: off)');
  num('stationaryRing', (v) => int(v) && v >= 2 && v <= 16, 'an integer in [2, 16]');
  num('stationaryCompactness', (v) => v >= 0 && v <= 1, 'a number in [0, 1]');
  return p;
}

/** One blob, as the kernels return it. */
export interface MotionBlob {
  x: number;
  y: number;
  varX: number;
  varY: number;
  covXY: number;
  flux: number;
  area: number;
  snr: number;
  peak: number;
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

export interface MotionOutput {
  blobs: MotionBlob[];
  overflow: number;
  foregroundPixels: number;
  warmingUp: boolean;
  /** Blobs found to be ghosts and left out (see ghostRatio). */
  ghosts?: number;
  /** Blobs whose centroid lies outside the camera's detection mask, left out (kernels/detection-mask.ts). */
  masked?: number;
  /** The frames look like coded video (noiseHoldFrames 'auto'). */
  coded?: boolean;
}

/** Checks a frame's geometry before it reaches a kernel. */
export function checkFrameSpec(width: number, height: number, bytesPerPixel: number): void {
  if (!Number.isInteger(width) || width < 1 || width > 65536) throw new KernelArgumentError(`Expected an integer in [1, 65536] for width but received ${describe(width)}`);
  if (!Number.isInteger(height) || height < 1 || height > 65536) throw new KernelArgumentError(`Expected an integer in [1, 65536] for height but received ${describe(height)}`);
  if (bytesPerPixel !== 1 && bytesPerPixel !== 2) throw new KernelArgumentError(`Expected 1 or 2 for bytesPerPixel but received ${describe(bytesPerPixel)}`);
}
