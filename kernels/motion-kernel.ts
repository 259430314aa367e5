/** The motion kernel as the actors use it: native when the addon loads, else the TypeScript reference. */
import { f32ToBin } from '../bus/codec.js';
import { BLOB_STRIDE } from '../schemas/detections.js';
import { MotionReference } from './motion-reference.js';
import type { MotionOutput, MotionParams } from './motion-params.js';
import { MotionDetector, NativeUnavailableError } from './native.js';

export interface MotionKernel {
  width: number;
  height: number;
  bpp: number;
  run(frame: Uint8Array): Promise<MotionOutput>;
}

/** A motion kernel for frames of this size; `onFallback` hears why the native one is not used. */
export function openMotionKernel(width: number, height: number, bpp: 1 | 2, params: Partial<MotionParams>, onFallback: (reason: string) => void): MotionKernel {
  try {
    const det = new MotionDetector(width, height, bpp, params);
    return { width, height, bpp, run: (f) => det.process(f) };
  } catch (err) {
    if (!(err instanceof NativeUnavailableError)) throw err;
    onFallback(err.message);
    const ref = new MotionReference(width, height, bpp, params);
    return { width, height, bpp, run: async (f) => ref.process(f) };
  }
}

/** Packs blobs in the wire layout of DetectionFrame. */
export function packBlobs(out: MotionOutput): Uint8Array {
  const values = new Float32Array(out.blobs.length * BLOB_STRIDE);
  out.blobs.forEach((b, i) => values.set([b.x, b.y, b.varX, b.varY, b.covXY, b.flux, b.area, b.snr, b.peak], i * BLOB_STRIDE));
  return f32ToBin(values);
}
