/**
 * Detection mode: for one camera and one frame, the blobs that pixel mode followed by the
 * motion detector (kernels/) would yield — detection when the brightest pixel (its share of
 * the flux depends on where in the pixel the target sits) clears the detector's k_high·σ,
 * centroid noise at the Cramér–Rao bound of a Gaussian image, pixel-noise false alarms at the
 * threshold's tail rate thinned by the detector's whole-blob test, and sun glints (mono).
 * A test runs both modes on the same scenes and compares their statistics.
 */
import { norm, sub } from '../geometry/vec3.js';
import { BLOB_STRIDE } from '../schemas/detections.js';
import type { RigCamera } from './rig.js';
import type { Rng } from './rng.js';
import { DEFAULT_MOTION_PARAMS } from '../kernels/motion-params.js';
import { detectionMaskFile, looksAt } from '../kernels/detection-mask.js';
import type { ObjectKind } from '../schemas/kinds.js';
import { type BandSensor, centralPixelShare, type ObjectImage, objectImage, pixelContrastDn, pixelNoiseDn, skyLevelDn } from './sensor.js';
import { normalCdf, normalTail } from './stats.js';
import type { SceneObject } from './trajectory.js';

export interface DetectionModeOptions {
  /** At most this many blobs per frame; the rest are counted as overflow. */
  maxBlobs: number;
  /** Sun glints per second in the mono band (0 for none). */
  glintRateHz: number;
  fps: number;
}

export interface SynthesizedFrame {
  blobs: Float32Array;
  count: number;
  overflow: number;
  /** Which object each blob came from (undefined: a false alarm); kept for tests and evaluation. */
  sources: (string | undefined)[];
}

/**
 * Probability that the detector reports an object imaged as `img` centred at pixel `uv`: its
 * brightest pixel (whose share of the flux depends on where in the pixel the centre sits)
 * clears k_high·σ of the local sky, and its window stands out by k_low·σ as a whole.
 */
export function detectionProbability(cam: RigCamera, sensor: BandSensor, kind: ObjectKind, img: ObjectImage, uv: readonly [number, number]): number {
  const sigma = pixelNoiseDn(sensor, skyLevelDn(sensor.skyDn, cam.model.ray(uv[0], uv[1])[2]));
  const share = centralPixelShare(img.sigmaPx, uv[0] - Math.round(uv[0]), uv[1] - Math.round(uv[1]));
  // A pixel cannot differ from the sky by more than a fully covered one does.
  const peak = Math.min(Math.abs(img.flux) * share, Math.abs(pixelContrastDn(kind, cam.band, sensor)));
  const kLow = DEFAULT_MOTION_PARAMS.kLow;
  // The blob's box spans its isophote at k_low·σ; its window is the box grown by the margin.
  const side = Math.max(1, Math.round(2 * img.sigmaPx * Math.sqrt(2 * Math.log(Math.max(1, peak / (kLow * sigma))))));
  const window = (side + 2 * DEFAULT_MOTION_PARAMS.windowMargin) ** 2;
  return normalCdf(peak / sigma - sensor.thresholdSigma) * normalCdf(Math.abs(img.flux) / (sigma * Math.sqrt(window)) - kLow);
}

/**
 * Mean number of pure-noise blobs per frame: pixels crossing k_high·σ anywhere on the sensor,
 * thinned by the detector's whole-window test (a lone spike rarely passes it).
 */
export function noiseFalseAlarmRate(cam: RigCamera, sensor: BandSensor): number {
  const k = sensor.thresholdSigma;
  const nw = (1 + 2 * DEFAULT_MOTION_PARAMS.windowMargin) ** 2;
  const survive = normalTail((DEFAULT_MOTION_PARAMS.kLow * Math.sqrt(nw) - (k + 0.3)) / Math.sqrt(nw - 1));
  return cam.model.width * cam.model.height * normalTail(k) * survive;
}

/** The blobs of camera `cam` at true time `t` (seconds). */
export function synthesizeDetections(cam: RigCamera, sensor: BandSensor, objects: readonly SceneObject[], t: number, rng: Rng, o: DetectionModeOptions): SynthesizedFrame {
  const m = cam.model;
  const sigmaN = pixelNoiseDn(sensor);
  const k = sensor.thresholdSigma;
  const rows: number[][] = [];
  const sources: (string | undefined)[] = [];

  for (const obj of objects) {
    const p = obj.track.position(t);
    if (m.depth(p) <= 0) continue;
    const uv = m.project(p);
    if (!uv || !m.inImage(uv[0], uv[1], 1)) continue;
    const img = objectImage(obj.kind, cam.band, sensor, obj.sizeM, norm(sub(p, m.center)), m.fx);
    if (rng.next() >= detectionProbability(cam, sensor, obj.kind, img, uv)) continue;
    const s2 = img.sigmaPx * img.sigmaPx;
    // Pixels above the threshold isophote, and the share of the flux inside it.
    const area = Math.max(1, 2 * Math.PI * s2 * Math.log(Math.max(1.0001, Math.abs(img.peak) / (k * sigmaN))));
    const inside = Math.max(0.05, 1 - (k * sigmaN) / Math.abs(img.peak));
    const flux = img.flux * inside + rng.normal() * sigmaN * Math.sqrt(area);
    const snrMf = Math.abs(img.flux) / (sigmaN * Math.sqrt(4 * Math.PI) * img.sigmaPx);
    const sigmaC = Math.max(0.01, (Math.SQRT2 * img.sigmaPx) / snrMf);
    const x = uv[0] + rng.normal() * sigmaC;
    const y = uv[1] + rng.normal() * sigmaC;
    rows.push([x, y, sigmaC * sigmaC, sigmaC * sigmaC, 0, flux, area, Math.abs(flux) / (sigmaN * Math.sqrt(area)), img.peak + rng.normal() * sigmaN]);
    sources.push(obj.id);
  }

  const noiseFa = rng.poisson(noiseFalseAlarmRate(cam, sensor));
  for (let i = 0; i < noiseFa; i++) falseAlarm(rows, sources, m.width, m.height, sigmaN, k + Math.abs(rng.normal()) * 0.3, rng);
  if (cam.band === 'mono' && o.glintRateHz > 0) {
    const glints = rng.poisson(o.glintRateHz / o.fps);
    for (let i = 0; i < glints; i++) falseAlarm(rows, sources, m.width, m.height, sigmaN, rng.uniform(k, 4 * k), rng);
  }

  // A camera with a detection mask reports nothing where it does not look, as its motion actor would.
  if (cam.mask !== undefined) {
    const mask = detectionMaskFile(cam.mask);
    for (let i = rows.length - 1; i >= 0; i--) {
      if (looksAt(mask, rows[i]![0]!, rows[i]![1]!)) continue;
      rows.splice(i, 1);
      sources.splice(i, 1);
    }
  }
  const count = Math.min(rows.length, o.maxBlobs);
  const blobs = new Float32Array(count * BLOB_STRIDE);
  for (let i = 0; i < count; i++) blobs.set(rows[i]!, i * BLOB_STRIDE);
  return { blobs, count, overflow: rows.length - count, sources: sources.slice(0, count) };
}

function falseAlarm(rows: number[][], sources: (string | undefined)[], w: number, h: number, sigmaN: number, snr: number, rng: Rng): void {
  const x = rng.uniform(-0.5, w - 0.5);
  const y = rng.uniform(-0.5, h - 0.5);
  const flux = snr * sigmaN;
  rows.push([x, y, 1 / 12, 1 / 12, 0, flux, 1, snr, flux]);
  sources.push(undefined);
}
