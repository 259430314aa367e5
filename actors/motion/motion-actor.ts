/**
 * The motion actor (one per camera): takes each frame descriptor on `skyvox.frame.<cam>`,
 * reads the frame in place from the camera's ring, runs the native motion kernel (the
 * TypeScript reference when the addon is missing, with a warning), and publishes the blobs on
 * `skyvox.det.<cam>`. Frames it cannot keep up with are dropped from its small mailbox;
 * sequence gaps and frames evicted before it read them count as drops too.
 */
import { f32ToBin } from '../../bus/codec.js';
import { findRing } from '../../frames/registry.js';
import { MotionReference } from '../../kernels/motion-reference.js';
import type { MotionOutput, MotionParams } from '../../kernels/motion-params.js';
import { MotionDetector, NativeUnavailableError } from '../../kernels/native.js';
import { BLOB_STRIDE, DetectionFrame } from '../../schemas/detections.js';
import { FrameDescriptor } from '../../schemas/frame.js';
import type { MessageOf } from '../../schemas/message.js';
import type { ActorBehavior, ActorContext } from '../../supervisors/actor.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';

type Descriptor = MessageOf<typeof FrameDescriptor>;

interface Kernel {
  width: number;
  height: number;
  bpp: number;
  run(frame: Uint8Array): Promise<MotionOutput>;
}

function makeKernel(width: number, height: number, bpp: 1 | 2, params: Partial<MotionParams>, ctx: ActorContext<Descriptor>): Kernel {
  try {
    const det = new MotionDetector(width, height, bpp, params);
    return { width, height, bpp, run: (f) => det.process(f) };
  } catch (err) {
    if (!(err instanceof NativeUnavailableError)) throw err;
    ctx.log.warn({ reason: err.message }, 'native motion kernel unavailable; using the TypeScript reference (slow)');
    const ref = new MotionReference(width, height, bpp, params);
    return { width, height, bpp, run: async (f) => ref.process(f) };
  }
}

/** Packs blobs in the wire layout of DetectionFrame. */
function packBlobs(out: MotionOutput): Uint8Array {
  const values = new Float32Array(out.blobs.length * BLOB_STRIDE);
  out.blobs.forEach((b, i) => values.set([b.x, b.y, b.varX, b.varY, b.covXY, b.flux, b.area, b.snr, b.peak], i * BLOB_STRIDE));
  return f32ToBin(values);
}

/** Factory for the `motion` actor kind: options `{camera, params?}` (params: kernels/motion-params.ts). */
export function motionActor(f: ActorFactoryContext): ActorBehavior<Descriptor> {
  const cam = f.options.camera;
  if (typeof cam !== 'string') throw new TypeError(`options.camera: expected a camera id, got ${JSON.stringify(cam)}`);
  const params = (f.options.params ?? {}) as Partial<MotionParams>;
  let kernel: Kernel | undefined;
  let lastSeq: number | undefined;
  return {
    start(ctx) {
      ctx.subscribe(FrameDescriptor, ctx.bus!.subjects.frame(cam), (d) => d);
    },
    async handle(d, ctx) {
      if (lastSeq !== undefined && d.seq > lastSeq + 1) ctx.stats.dropped += d.seq - lastSeq - 1;
      lastSeq = d.seq;
      const ring = findRing(cam);
      if (!ring || !ring.acquire(d.slot, d.seq)) {
        ctx.stats.dropped++; // evicted before we got to it, or the camera is gone
        return;
      }
      try {
        if (!kernel || kernel.width !== d.width || kernel.height !== d.height || kernel.bpp !== d.bytes_per_pixel) {
          kernel = makeKernel(d.width, d.height, d.bytes_per_pixel, params, ctx);
        }
        const out = await kernel.run(ring.pixels(d.slot));
        if (out.warmingUp) return;
        ctx.publish(DetectionFrame, ctx.bus!.subjects.det(cam), {
          t_ns: d.t_ns,
          cam,
          seq: d.seq,
          width: d.width,
          height: d.height,
          count: out.blobs.length,
          overflow: out.overflow,
          blobs: packBlobs(out),
        });
      } finally {
        ring.release(d.slot);
      }
    },
  };
}
