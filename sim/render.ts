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
import { Rng } from './rng.js';
import { type BandSensor, objectImage, pixelNoiseDn, skyLevelDn } from './sensor.js';
import { normalCdf } from './stats.js';
import type { SceneObject } from './trajectory.js';

const NOISE_TABLE_SIZE = 1 << 20;
let noiseTable: Float32Array | undefined;

/** A fixed table of standard normals; frames read it from a random offset with a random odd stride. */
function normals(): Float32Array {
  if (!noiseTable) {
    const rng = new Rng(0x5eed);
    noiseTable = new Float32Array(NOISE_TABLE_SIZE);
    for (let i = 0; i < NOISE_TABLE_SIZE; i++) noiseTable[i] = rng.normal();
  }
  return noiseTable;
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

/** Renders one frame into `out` (8-bit when bit depth ≤ 8, else 16-bit little-endian in a byte view). */
export function renderFrame(r: RenderInput, out: Uint8Array): void {
  const { width: w, height: h } = r.cam.model;
  const wide = bytesPerPixel(r.sensor) === 2;
  if (out.byteLength !== w * h * (wide ? 2 : 1)) throw new RangeError(`Expected ${w * h * (wide ? 2 : 1)} bytes for a ${w}×${h} frame but received ${out.byteLength}`);
  quantize(renderIdeal(r), r, out, wide);
}

/** The noiseless image in DN (before noise, defects and quantization). */
export function renderIdeal(r: RenderInput): Float32Array {
  const { cam, sensor } = r;
  const { width: w, height: h } = cam.model;
  const img = new Float32Array(w * h);
  skyGradient(r, img);
  for (const c of r.scene.clouds) addCloud(img, w, h, c, r.t, sensor.skyDn);
  for (const obj of r.objects) addObject(img, r, obj);
  if (cam.band === 'mono' && r.glintRateHz > 0) {
    for (let i = r.rng.poisson(r.glintRateHz / r.fps); i > 0; i--) {
      const k = pixelNoiseDn(sensor) * r.rng.uniform(sensor.thresholdSigma, 4 * sensor.thresholdSigma) * 2 * Math.PI * sensor.psfSigmaPx ** 2;
      addGaussian(img, w, h, r.rng.uniform(0, w - 1), r.rng.uniform(0, h - 1), sensor.psfSigmaPx, k);
    }
  }
  return img;
}

/** Brighter towards the horizon, by each pixel's elevation (bilinear over a coarse grid of rays). */
function skyGradient(r: RenderInput, img: Float32Array): void {
  const m = r.cam.model;
  const { width: w, height: h } = m;
  const G = 16;
  const grid = new Float32Array((G + 1) * (G + 1));
  for (let gy = 0; gy <= G; gy++) for (let gx = 0; gx <= G; gx++) grid[gy * (G + 1) + gx] = m.ray((gx / G) * (w - 1), (gy / G) * (h - 1))[2];
  for (let y = 0; y < h; y++) {
    const fy = (y / (h - 1 || 1)) * G;
    const gy = Math.min(G - 1, Math.floor(fy));
    const ty = fy - gy;
    for (let x = 0; x < w; x++) {
      const fx = (x / (w - 1 || 1)) * G;
      const gx = Math.min(G - 1, Math.floor(fx));
      const tx = fx - gx;
      const i0 = gy * (G + 1) + gx;
      const z = (grid[i0]! * (1 - tx) + grid[i0 + 1]! * tx) * (1 - ty) + (grid[i0 + G + 1]! * (1 - tx) + grid[i0 + G + 2]! * tx) * ty;
      img[y * w + x] = skyLevelDn(r.sensor, z);
    }
  }
}

function addCloud(img: Float32Array, w: number, h: number, c: Cloud, t: number, sky: number): void {
  const cu = c.u + c.du * t;
  const cv = c.v + c.dv * t;
  const reach = 3 * c.sigma;
  const x0 = Math.max(0, Math.floor(cu - reach));
  const x1 = Math.min(w - 1, Math.ceil(cu + reach));
  const y0 = Math.max(0, Math.floor(cv - reach * 0.5));
  const y1 = Math.min(h - 1, Math.ceil(cv + reach * 0.5));
  const a = (c.contrast * sky);
  const inv = 1 / (2 * c.sigma * c.sigma);
  for (let y = y0; y <= y1; y++) {
    const dy = (y - cv) * 2; // flattened clouds
    for (let x = x0; x <= x1; x++) {
      const dx = x - cu;
      img[y * w + x]! += a * Math.exp(-(dx * dx + dy * dy) * inv);
    }
  }
}

function addObject(img: Float32Array, r: RenderInput, obj: SceneObject): void {
  const m = r.cam.model;
  const p = obj.track.position(r.t);
  if (m.depth(p) <= 0) return;
  const uv = m.project(p);
  if (!uv) return;
  const im = objectImage(obj.kind, r.cam.band, r.sensor, obj.sizeM, norm(sub(p, m.center)), m.fx);
  addGaussian(img, m.width, m.height, uv[0], uv[1], im.sigmaPx, im.flux);
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

function quantize(img: Float32Array, r: RenderInput, out: Uint8Array, wide: boolean): void {
  const table = normals();
  const { readNoiseDn, gainEPerDn, bitDepth } = r.sensor;
  const max = 2 ** bitDepth - 1;
  const read2 = readNoiseDn * readNoiseDn;
  const invGain = 1 / gainEPerDn;
  let at = r.rng.nextU32() & (NOISE_TABLE_SIZE - 1);
  const stride = (r.rng.nextU32() | 1) & (NOISE_TABLE_SIZE - 1);
  const view16 = wide ? new DataView(out.buffer, out.byteOffset, out.byteLength) : undefined;
  for (let i = 0; i < img.length; i++) {
    const level = img[i]!;
    const noisy = level + Math.sqrt(read2 + (level > 0 ? level * invGain : 0)) * table[at]!;
    at = (at + stride) & (NOISE_TABLE_SIZE - 1);
    const q = noisy <= 0 ? 0 : noisy >= max ? max : Math.round(noisy);
    if (view16) view16.setUint16(i * 2, q, true);
    else out[i] = q;
  }
  // Defects after noise: a hot pixel is stuck at full scale, a dead one at zero.
  for (const [pixels, value] of [[r.scene.hot, max], [r.scene.dead, 0]] as const) {
    for (const i of pixels) {
      if (view16) view16.setUint16(i * 2, value, true);
      else out[i] = value;
    }
  }
}
