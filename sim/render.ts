/**
 * Pixel mode: renders what a camera sees. Objects go through the full camera model and their
 * image (PSF ⊗ object extent) is integrated over each pixel, so a target far below one pixel
 * still leaves exactly its flux. Sky gradient, drifting clouds (mono only), read and shot
 * noise, hot and dead pixels, sun glints. Same seed and frame → identical bytes.
 *
 * This is the TypeScript reference; the native core takes over the hot loop.
 */
import { norm, sub } from '../geometry/vec3.js';
import type { RigCamera } from './rig.js';
import type { RenderPlan } from '../kernels/render-plan.js';
import { Rng } from './rng.js';
import { type BandSensor, objectImage, pixelNoiseDn, skyLevelDn } from './sensor.js';
import { normalCdf } from './stats.js';
import type { SceneObject } from './trajectory.js';

const NOISE_TABLE_SIZE = 1 << 20;
// The second walk wraps at a length coprime with the first, so the pair only repeats after
// ~2^40 pixels: no pattern shows even in an 8K frame, and both walks read memory in order.
export const NOISE_WALK2 = NOISE_TABLE_SIZE - 3;
let table: Float32Array | undefined;

/** A fixed table of standard normals; each pixel's noise is the scaled sum of two walks through it. */
function normals(): Float32Array {
  if (!table) {
    const rng = new Rng(0x5eed);
    table = new Float32Array(NOISE_TABLE_SIZE);
    for (let i = 0; i < NOISE_TABLE_SIZE; i++) table[i] = rng.normal();
  }
  return table;
}

export interface Cloud {
  /** Centre at t = 0 (px), drift velocity (px/s), size (px), contrast (fraction of sky). */
  u: number;
  v: number;
  du: number;
  dv: number;
  sigma: number;
  contrast: number;
}

/** Static per-camera features: clouds and defective pixels, drawn once from the seed. */
export interface CameraScene {
  clouds: Cloud[];
  hot: Int32Array;
  dead: Int32Array;
}

export interface SceneOptions {
  clouds: number;
  cloudContrast: number;
  cloudSpeedPxS: number;
  hotPixels: number;
  deadPixels: number;
}

/** Draws a camera's clouds and defects from its seed. */
export function cameraScene(cam: RigCamera, seed: number, o: SceneOptions): CameraScene {
  const rng = Rng.derive(seed, `scene/${cam.id}`);
  const { width: w, height: h } = cam.model;
  const clouds: Cloud[] = [];
  if (cam.band === 'mono') {
    for (let i = 0; i < o.clouds; i++) {
      const angle = rng.uniform(0, 2 * Math.PI);
      clouds.push({ u: rng.uniform(0, w), v: rng.uniform(0, h), du: o.cloudSpeedPxS * Math.cos(angle), dv: o.cloudSpeedPxS * Math.sin(angle) * 0.3, sigma: rng.uniform(0.05, 0.15) * w, contrast: o.cloudContrast * rng.uniform(0.5, 1) });
    }
  }
  const pick = (n: number) => Int32Array.from({ length: n }, () => Math.floor(rng.next() * w * h));
  return { clouds, hot: pick(o.hotPixels), dead: pick(o.deadPixels) };
}

export interface RenderInput {
  cam: RigCamera;
  sensor: BandSensor;
  scene: CameraScene;
  objects: readonly SceneObject[];
  /** True time of the exposure mid-point (s). */
  t: number;
  /** Per-frame randomness (noise offset, glints). */
  rng: Rng;
  glintRateHz: number;
  fps: number;
}

/** Bytes per pixel of a band's frames: 1 up to 8 bits, else 2 (little-endian). */
export const bytesPerPixel = (sensor: BandSensor): 1 | 2 => (sensor.bitDepth > 8 ? 2 : 1);

const GRID = 16;

export type { RenderPlan };

/** Plans one frame (draws its glints and noise walk from `r.rng`). */
export function planFrame(r: RenderInput): RenderPlan {
  const { cam, sensor } = r;
  const m = cam.model;
  const { width: w, height: h } = m;
  const skyGrid = new Float32Array((GRID + 1) * (GRID + 1));
  for (let gy = 0; gy <= GRID; gy++) for (let gx = 0; gx <= GRID; gx++) skyGrid[gy * (GRID + 1) + gx] = m.ray((gx / GRID) * (w - 1), (gy / GRID) * (h - 1))[2];
  const clouds = r.scene.clouds.flatMap((c) => [c.u + c.du * r.t, c.v + c.dv * r.t, c.sigma, c.contrast * sensor.skyDn]);
  const gaussians: number[] = [];
  for (const obj of r.objects) {
    const p = obj.track.position(r.t);
    if (m.depth(p) <= 0) continue;
    const uv = m.project(p);
    if (!uv) continue;
    const im = objectImage(obj.kind, cam.band, sensor, obj.sizeM, norm(sub(p, m.center)), m.fx);
    gaussians.push(uv[0], uv[1], im.sigmaPx, im.flux);
  }
  if (cam.band === 'mono' && r.glintRateHz > 0) {
    for (let i = r.rng.poisson(r.glintRateHz / r.fps); i > 0; i--) {
      const k = pixelNoiseDn(sensor) * r.rng.uniform(sensor.thresholdSigma, 4 * sensor.thresholdSigma) * 2 * Math.PI * sensor.psfSigmaPx ** 2;
      gaussians.push(r.rng.uniform(0, w - 1), r.rng.uniform(0, h - 1), sensor.psfSigmaPx, k);
    }
  }
  const noiseAt = r.rng.nextU32() % NOISE_TABLE_SIZE;
  const noiseAt2 = r.rng.nextU32() % NOISE_WALK2;
  return {
    width: w,
    height: h,
    bitDepth: sensor.bitDepth,
    skyDn: sensor.skyDn,
    grid: GRID,
    skyGrid,
    clouds: Float64Array.from(clouds),
    gaussians: Float64Array.from(gaussians),
    hot: r.scene.hot,
    dead: r.scene.dead,
    readNoiseDn: sensor.readNoiseDn,
    gainEPerDn: sensor.gainEPerDn,
    noiseAt,
    noiseAt2,
    noiseWalk2: NOISE_WALK2,
  };
}

/** The standard normals every frame's noise is read from (a fixed table; see `normals`). */
export const noiseTable = (): Float32Array => normals();

/** Renders one frame into `out` (8-bit when bit depth ≤ 8, else 16-bit little-endian in a byte view). */
export function renderFrame(r: RenderInput, out: Uint8Array): void {
  const plan = planFrame(r);
  const wide = plan.bitDepth > 8;
  if (out.byteLength !== plan.width * plan.height * (wide ? 2 : 1)) throw new RangeError(`Expected ${plan.width * plan.height * (wide ? 2 : 1)} bytes for a ${plan.width}×${plan.height} frame but received ${out.byteLength}`);
  quantize(idealFromPlan(plan), plan, out);
}

/** The noiseless image in DN (before noise, defects and quantization). */
export function renderIdeal(r: RenderInput): Float32Array {
  return idealFromPlan(planFrame(r));
}

function idealFromPlan(plan: RenderPlan): Float32Array {
  const { width: w, height: h } = plan;
  const img = new Float32Array(w * h);
  skyGradient(plan, img);
  for (let i = 0; i + 3 < plan.clouds.length; i += 4) addCloud(img, w, h, plan.clouds[i]!, plan.clouds[i + 1]!, plan.clouds[i + 2]!, plan.clouds[i + 3]!);
  for (let i = 0; i + 3 < plan.gaussians.length; i += 4) addGaussian(img, w, h, plan.gaussians[i]!, plan.gaussians[i + 1]!, plan.gaussians[i + 2]!, plan.gaussians[i + 3]!);
  return img;
}

/** Brighter towards the horizon, by each pixel's elevation (bilinear over the plan's grid of rays). */
function skyGradient(plan: RenderPlan, img: Float32Array): void {
  const { width: w, height: h, grid: G, skyGrid: grid } = plan;
  // Column positions on the grid, once per frame; rows interpolated once per row.
  const gxs = new Int32Array(w);
  const txs = new Float64Array(w);
  for (let x = 0; x < w; x++) {
    const fx = (x / (w - 1 || 1)) * G;
    gxs[x] = Math.min(G - 1, Math.floor(fx));
    txs[x] = fx - gxs[x]!;
  }
  const rowz = new Float64Array(G + 1);
  for (let y = 0; y < h; y++) {
    const fy = (y / (h - 1 || 1)) * G;
    const gy = Math.min(G - 1, Math.floor(fy));
    const ty = fy - gy;
    for (let g = 0; g <= G; g++) rowz[g] = grid[gy * (G + 1) + g]! * (1 - ty) + grid[(gy + 1) * (G + 1) + g]! * ty;
    for (let x = 0; x < w; x++) {
      const gx = gxs[x]!;
      const tx = txs[x]!;
      img[y * w + x] = skyLevelDn(plan.skyDn, rowz[gx]! * (1 - tx) + rowz[gx + 1]! * tx);
    }
  }
}

function addCloud(img: Float32Array, w: number, h: number, cu: number, cv: number, sigma: number, a: number): void {
  const reach = 3 * sigma;
  const x0 = Math.max(0, Math.floor(cu - reach));
  const x1 = Math.min(w - 1, Math.ceil(cu + reach));
  const y0 = Math.max(0, Math.floor(cv - reach * 0.5));
  const y1 = Math.min(h - 1, Math.ceil(cv + reach * 0.5));
  if (x0 > x1 || y0 > y1) return;
  const inv = 1 / (2 * sigma * sigma);
  // Separable: exp(−(dx² + dy²)k) = exp(−dx²k)·exp(−dy²k), one exp per column and per row.
  const ex = new Float64Array(x1 - x0 + 1);
  for (let x = x0; x <= x1; x++) ex[x - x0] = Math.exp(-(x - cu) * (x - cu) * inv);
  for (let y = y0; y <= y1; y++) {
    const dy = (y - cv) * 2; // flattened clouds
    const ay = a * Math.exp(-dy * dy * inv);
    for (let x = x0; x <= x1; x++) img[y * w + x]! += ay * ex[x - x0]!;
  }
}

/** Adds a Gaussian of total `flux` centred at (u, v), integrated exactly over each pixel. */
export function addGaussian(img: Float32Array, w: number, h: number, u: number, v: number, sigma: number, flux: number): void {
  const reach = Math.ceil(4 * sigma + 1);
  const x0 = Math.max(0, Math.floor(u) - reach);
  const x1 = Math.min(w - 1, Math.ceil(u) + reach);
  const y0 = Math.max(0, Math.floor(v) - reach);
  const y1 = Math.min(h - 1, Math.ceil(v) + reach);
  if (x0 > x1 || y0 > y1) return;
  const s = 1 / sigma;
  const wx = new Float64Array(x1 - x0 + 1);
  for (let x = x0; x <= x1; x++) wx[x - x0] = normalCdf((x + 0.5 - u) * s) - normalCdf((x - 0.5 - u) * s);
  for (let y = y0; y <= y1; y++) {
    const wy = flux * (normalCdf((y + 0.5 - v) * s) - normalCdf((y - 0.5 - v) * s));
    if (wy === 0) continue;
    const row = y * w;
    for (let x = x0; x <= x1; x++) img[row + x]! += wy * wx[x - x0]!;
  }
}

function quantize(img: Float32Array, plan: RenderPlan, out: Uint8Array): void {
  const noise = normals();
  const { readNoiseDn, gainEPerDn, bitDepth } = plan;
  const wide = bitDepth > 8;
  const max = 2 ** bitDepth - 1;
  const read2 = readNoiseDn * readNoiseDn;
  const invGain = 1 / gainEPerDn;
  let at = plan.noiseAt;
  let at2 = plan.noiseAt2;
  const view16 = wide ? new DataView(out.buffer, out.byteOffset, out.byteLength) : undefined;
  for (let i = 0; i < img.length; i++) {
    const level = img[i]!;
    // Two independent standard normals summed and scaled by 1/√2: again a standard normal.
    const z = (noise[at]! + noise[at2]!) * Math.SQRT1_2;
    if (++at === NOISE_TABLE_SIZE) at = 0;
    if (++at2 === NOISE_WALK2) at2 = 0;
    const noisy = level + Math.sqrt(read2 + (level > 0 ? level * invGain : 0)) * z;
    const q = noisy <= 0 ? 0 : noisy >= max ? max : Math.floor(noisy + 0.5);
    if (view16) view16.setUint16(i * 2, q, true);
    else out[i] = q;
  }
  // Defects after noise: a hot pixel is stuck at full scale, a dead one at zero.
  for (const [pixels, value] of [[plan.hot, max], [plan.dead, 0]] as const) {
    for (const i of pixels) {
      if (view16) view16.setUint16(i * 2, value, true);
      else out[i] = value;
    }
  }
}

/** The native renderer's pixel loops (kernels/native.ts), for one camera. */
export interface PixelEngine {
  render(plan: RenderPlan, noise: Float32Array, out: Uint8Array): Promise<void>;
}

/** Renders one frame with a native pixel engine: same plan, same noise walk as `renderFrame`. */
export async function renderFrameWith(engine: PixelEngine, r: RenderInput, out: Uint8Array): Promise<void> {
  await engine.render(planFrame(r), normals(), out);
}
