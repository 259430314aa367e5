/**
 * The motion actor (one per camera): takes each frame descriptor on `skyvox.frame.<cam>`,
 * reads the frame in place from the camera's ring, runs the native motion kernel (the
 * TypeScript reference when the addon is missing, with a warning), and publishes the blobs on
 * `skyvox.det.<cam>`. Frames it cannot keep up with are dropped from its small mailbox;
 * sequence gaps and frames evicted before it read them count as drops too. With
 * `analysis_fps` it analyses only the frames on the analysis grid (frames/analysis-grid.ts),
 * the same instants on every synchronised camera; the others are skipped, not dropped.
 */
import { analysisGrid, onAnalysisGrid } from '../../frames/analysis-grid.js';
import { findRing } from '../../frames/registry.js';
import { detectionMaskFile } from '../../kernels/detection-mask.js';
import type { MotionParams } from '../../kernels/motion-params.js';
import { type MotionKernel, openMotionKernel, packBlobs } from '../../kernels/motion-kernel.js';
import { DetectionFrame } from '../../schemas/detections.js';
import { VideoWriter } from '../../frames/video-writer.js';
import { FrameDescriptor } from '../../schemas/frame.js';
import type { MessageOf } from '../../schemas/message.js';
import type { ActorBehavior } from '../../supervisors/actor.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';

type Descriptor = MessageOf<typeof FrameDescriptor>;

/** Factory for the `motion` actor kind: options `{camera, params?, mask?, record_video?, analysis_fps?, fps?}` (params: kernels/motion-params.ts; mask: a PGM detection mask, kernels/detection-mask.ts; record_video: a directory for frames/video-writer.ts; analysis_fps of the cameras' fps). */
export function motionActor(f: ActorFactoryContext): ActorBehavior<Descriptor> {
  const cam = f.options.camera;
  if (typeof cam !== 'string') throw new TypeError(`options.camera: expected a camera id, got ${JSON.stringify(cam)}`);
  const params = (f.options.params ?? {}) as Partial<MotionParams>;
  if (f.options.mask !== undefined && typeof f.options.mask !== 'string') throw new TypeError(`options.mask: expected a PGM file, got ${JSON.stringify(f.options.mask)}`);
  const mask = typeof f.options.mask === 'string' ? detectionMaskFile(f.options.mask) : undefined;
  let kernel: MotionKernel | undefined;
  const recordDir = f.options.record_video;
  if (recordDir !== undefined && typeof recordDir !== 'string') throw new TypeError(`options.record_video: expected a directory, got ${JSON.stringify(recordDir)}`);
  const grid = f.options.analysis_fps !== undefined ? analysisGrid(f.options.analysis_fps as number, f.options.fps as number, 'options.analysis_fps') : undefined;
  let lastSeq: number | undefined;
  let video: VideoWriter | undefined;
  return {
    start(ctx) {
      // Off-grid frames are left out before the mailbox, so they never push a grid frame out of it.
      ctx.subscribe(FrameDescriptor, ctx.bus!.subjects.frame(cam), (d) => (!grid || onAnalysisGrid(d.t_ns, grid) ? d : undefined));
    },
    async handle(d, ctx) {
      // On a grid, the source may skip the frames between (a simulated camera does): gaps are expected.
      if (!grid && lastSeq !== undefined && d.seq > lastSeq + 1) ctx.stats.dropped += d.seq - lastSeq - 1;
      lastSeq = d.seq;
      const ring = findRing(cam);
      if (!ring || !ring.acquire(d.slot, d.seq)) {
        ctx.stats.dropped++; // evicted before we got to it, or the camera is gone
        return;
      }
      try {
        if (!kernel || kernel.width !== d.width || kernel.height !== d.height || kernel.bpp !== d.bytes_per_pixel) {
          kernel = openMotionKernel(d.width, d.height, d.bytes_per_pixel, params, (reason) => ctx.log.warn({ reason }, 'native motion kernel unavailable; using the TypeScript reference (slow)'), mask);
        }
        if (recordDir !== undefined) {
          // Every frame the kernel sees, and only those: `skyvox process` then repeats this run.
          video ??= new VideoWriter(recordDir, cam);
          await video.write(ring.pixels(d.slot), d.width, d.height, d.bytes_per_pixel, d.seq, d.t_ns);
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
          ...(out.coded ? { coded: true } : {}),
          blobs: packBlobs(out),
        });
      } finally {
        ring.release(d.slot);
      }
    },
    async stop() {
      await video?.close();
    },
  };
}
