/**
 * Detection mode: for one camera and one frame, the blobs that pixel mode followed by the
 * motion detector would yield — detection probability from peak SNR against the detector's
 * threshold, centroid noise at the Cramér–Rao bound of a Gaussian image, pixel-noise false
 * alarms at the threshold's tail probability, and sun glints in the mono band.
 */
import { norm, sub } from '../geometry/vec3.js';
import { BLOB_STRIDE } from '../schemas/detections.js';
import type { RigCamera } from './rig.js';
import type { Rng } from './rng.js';
import { type BandSensor, objectImage, pixelNoiseDn } from './sensor.js';
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
    const peakSnr = Math.abs(img.peak) / sigmaN;
    if (rng.next() >= normalCdf(peakSnr - k)) continue;
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

  // Pure noise crossing the threshold somewhere on the sensor.
  const noiseFa = rng.poisson(m.width * m.height * normalTail(k));
  for (let i = 0; i < noiseFa; i++) falseAlarm(rows, sources, m.width, m.height, sigmaN, k + Math.abs(rng.normal()) * 0.3, rng);
  if (cam.band === 'mono' && o.glintRateHz > 0) {
    const glints = rng.poisson(o.glintRateHz / o.fps);
    for (let i = 0; i < glints; i++) falseAlarm(rows, sources, m.width, m.height, sigmaN, rng.uniform(k, 4 * k), rng);
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
