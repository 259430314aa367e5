/** The motion kernel as the actors use it: native when the addon loads, else the TypeScript reference. */
import { f32ToBin } from '../bus/codec.js';
import { BLOB_STRIDE } from '../schemas/detections.js';
import { applyDetectionMask, checkMaskSize, type DetectionMask } from './detection-mask.js';
import { MotionReference } from './motion-reference.js';
import { type MotionBlob, type MotionOutput, type MotionParams, motionParams } from './motion-params.js';
import { MotionDetector, NativeUnavailableError } from './native.js';

export interface MotionKernel {
  width: number;
  height: number;
  bpp: number;
  run(frame: Uint8Array): Promise<MotionOutput>;
}

/**
 * A motion kernel for frames of this size; `onFallback` hears why the native one is not used.
 * With a detection mask, blobs outside it are left out (kernels/detection-mask.ts).
 */
export function openMotionKernel(width: number, height: number, bpp: 1 | 2, params: Partial<MotionParams>, onFallback: (reason: string) => void, mask?: DetectionMask): MotionKernel {
  const { ghostRatio, ghostRing } = motionParams(params);
  if (mask) checkMaskSize(mask, width, height);
  const screen = (out: MotionOutput, f: Uint8Array) => {
    const seen = mask ? applyDetectionMask(out, mask) : out;
    return ghostRatio > 0 ? suppressGhosts(seen, f, width, height, bpp, ghostRatio, ghostRing) : seen;
  };
  try {
    const det = new MotionDetector(width, height, bpp, params);
    return { width, height, bpp, run: async (f) => screen(await det.process(f), f) };
  } catch (err) {
    if (!(err instanceof NativeUnavailableError)) throw err;
    onFallback(err.message);
    const ref = new MotionReference(width, height, bpp, params);
    return { width, height, bpp, run: async (f) => screen(ref.process(f), f) };
  }
}

/**
 * Leaves out ghosts: blobs that differ from the background but not from their surroundings
 * in the current frame. An object present now stands out from the ring around its box by
 * about its flux; where an object was (and the background still remembers it) the frame is
 * plain sky, and the box's sum against the ring is noise. A blob is kept when that sum,
 * signed like its flux, reaches `ratio` of its flux.
 */
export function suppressGhosts(out: MotionOutput, frame: Uint8Array, width: number, height: number, bpp: 1 | 2, ratio: number, ring: number): MotionOutput {
  if (out.blobs.length === 0) return out;
  const px = bpp === 2 ? (frame.byteOffset % 2 === 0 ? new Uint16Array(frame.buffer, frame.byteOffset, width * height) : new Uint16Array(frame.slice().buffer)) : frame;
  const kept: MotionBlob[] = [];
  for (const b of out.blobs) {
    const [x0, y0, x1, y1] = [Math.max(0, b.x0), Math.max(0, b.y0), Math.min(width - 1, b.x1), Math.min(height - 1, b.y1)];
    const [rx0, ry0, rx1, ry1] = [Math.max(0, x0 - ring), Math.max(0, y0 - ring), Math.min(width - 1, x1 + ring), Math.min(height - 1, y1 + ring)];
    let inSum = 0;
    let inN = 0;
    let ringSum = 0;
    let ringN = 0;
    for (let y = ry0; y <= ry1; y++) {
      const row = y * width;
      for (let x = rx0; x <= rx1; x++) {
        const v = px[row + x]!;
        if (x >= x0 && x <= x1 && y >= y0 && y <= y1) {
          inSum += v;
          inN++;
        } else {
          ringSum += v;
          ringN++;
        }
      }
    }
    // A box filling the frame has no surroundings to compare with: keep it.
    if (ringN === 0 || inN === 0) {
      kept.push(b);
      continue;
    }
    const contrast = inSum - inN * (ringSum / ringN);
    if (Math.sign(b.flux) * contrast >= ratio * Math.abs(b.flux)) kept.push(b);
  }
  return { ...out, blobs: kept, ghosts: (out.ghosts ?? 0) + out.blobs.length - kept.length };
}

/** Packs blobs in the wire layout of DetectionFrame. */
export function packBlobs(out: MotionOutput): Uint8Array {
  const values = new Float32Array(out.blobs.length * BLOB_STRIDE);
  out.blobs.forEach((b, i) => values.set([b.x, b.y, b.varX, b.varY, b.covXY, b.flux, b.area, b.snr, b.peak], i * BLOB_STRIDE));
  return f32ToBin(values);
}
