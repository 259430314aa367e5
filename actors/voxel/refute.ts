/**
 * Negative evidence for a new object. A point voted by few views is refuted when another
 * camera of the same band has it well inside its image, so bright there that it could not be
 * missed — yet holds no detection near it. Two objects' rays crossing in mid-air (a ghost) fail
 * this test wherever a third camera looks; an object the views really share passes it. How
 * bright: a view's SNR scaled by the ratio of image scales (focal length over range) — an
 * unresolved object's SNR goes with the square of it, a resolved one's with it, so the scaling
 * taken is the one that expects less: linear for a witness that sees the object larger, the
 * square for one that sees it smaller. Where a camera's detection mask says it does not look,
 * its absence of detections says nothing.
 */
import type { Camera } from '../../geometry/camera.js';
import { type DetectionMask, looksAt } from '../../kernels/detection-mask.js';
import type { Vec3 } from '../../geometry/vec3.js';
import { BLOB_FIELDS } from '../../schemas/detections.js';
import { FUSED_STRIDE } from '../../schemas/fused.js';

const SNR_FIELD = BLOB_FIELDS.indexOf('snr');

/** A pair's view camera and its fused detections at the instant. */
export interface Witness {
  camera: Camera;
  band: 'mono' | 'thermal';
  blobs: Float32Array;
  count: number;
  /** Every detection is here (no blob cap overflowed): only then can an absence refute. */
  complete: boolean;
  /** Its detection mask: where it does not look (ground, a mast, a ridge) it refutes nothing. */
  mask?: DetectionMask | undefined;
}

export interface RefuteOptions {
  /** A camera expected to see the point at this SNR or more must have a detection near it. */
  minSnr: number;
  /** How near (px) a detection must be to the point's projection to count as seeing it. */
  searchPx: number;
  /** The projection must lie this far (px) inside the image. */
  marginPx: number;
}

/** Index of the first witness that refutes `point`, seen by `views` ([witness index, detection index]); -1 when none does. */
export function refutingWitness(point: Vec3, views: readonly [number, number][], witnesses: readonly Witness[], o: RefuteOptions): number {
  const scale = (c: Camera) => c.fx / Math.hypot(point[0] - c.center[0], point[1] - c.center[1], point[2] - c.center[2]);
  const seen = new Set(views.map(([w]) => w));
  for (const [wi, w] of witnesses.entries()) {
    if (seen.has(wi) || !w.complete) continue;
    const s = scale(w.camera);
    // The brightest the point would appear to w, from each same-band view that saw it.
    let expected = 0;
    for (const [vi, j] of views) {
      const v = witnesses[vi]!;
      if (v.band !== w.band) continue;
      const q = s / scale(v.camera);
      expected = Math.max(expected, v.blobs[j * FUSED_STRIDE + SNR_FIELD]! * (q >= 1 ? q : q * q));
    }
    if (expected < o.minSnr) continue;
    const p = w.camera.project(point);
    if (!p || !w.camera.inImage(p[0], p[1], o.marginPx) || (w.mask && !looksAt(w.mask, p[0], p[1]))) continue;
    let near = false;
    for (let j = 0; j < w.count && !near; j++) near = Math.hypot(w.blobs[j * FUSED_STRIDE]! - p[0], w.blobs[j * FUSED_STRIDE + 1]! - p[1]) <= o.searchPx;
    if (!near) return wi;
  }
  return -1;
}
