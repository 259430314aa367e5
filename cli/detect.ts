/**
 * `skyvox detect VIDEO [--labels CSV]`: one camera's footage through the motion kernel (the
 * motion actor's and batch work's own path: ffmpeg decodes, the native kernel detects), its
 * detections written as JSON lines and, given box labels, scored (eval/box-labels.ts).
 */
import { createWriteStream, existsSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import { probeVideo, runMotionTask } from '../actors/batch-worker/motion-task.js';
import { binToF32 } from '../bus/codec.js';
import { readBoxLabels, scoreAgainstBoxes } from '../eval/box-labels.js';
import { checkMaskSize, type DetectionMask, readDetectionMask } from '../kernels/detection-mask.js';
import { motionParams } from '../kernels/motion-params.js';
import { BLOB_FIELDS, BLOB_STRIDE } from '../schemas/detections.js';
import { UsageError } from './errors.js';
import { stageOptions } from './stage-options.js';

export interface DetectCliOptions {
  labels?: string;
  /** Where the labels count pixels from (1: MATLAB). */
  origin?: number;
  marginPx?: number;
  /** The frame rate when the video declares none. */
  fps?: number;
  out?: string;
  options?: string;
  report?: string;
  /** A PGM detection mask (kernels/detection-mask.ts). */
  mask?: string;
}

/** Runs the kernel over the video, prints the summary as JSON; exit code 0. */
export async function detectCommand(video: string, o: DetectCliOptions, log: Logger): Promise<number> {
  if (!existsSync(video)) throw new UsageError(`${video}: no such file`);
  const labels = o.labels ? readLabels(o.labels, o.origin ?? 1) : undefined;
  const motion = stageOptions(o.options).motion ?? {};
  const params = motionParams(motion);
  const probe = await probeVideo(video);
  const fps = o.fps ?? probe.fps;
  if (!fps) throw new UsageError(`${video}: the video declares no frame rate: give --fps`);
  let mask: DetectionMask | undefined;
  try {
    mask = o.mask ? readDetectionMask(o.mask) : undefined;
    if (mask) checkMaskSize(mask, probe.width, probe.height, `--mask ${o.mask}`);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const out = o.out ? createWriteStream(o.out) : undefined;
  const points = new Map<number, [number, number][]>();
  let [frames, detections, overflow, coded] = [0, 0, 0, 0];
  const started = performance.now();
  await runMotionTask(
    { cam: basename(video), video, index: (k) => ({ seq: k, t_ns: BigInt(Math.round((k * 1e9) / fps)) }), from: 0, to: Infinity, warmup: 0, params: motion, mask },
    (d) => {
      frames++;
      detections += d.count;
      overflow += d.overflow;
      if (d.coded) coded++;
      const b = binToF32(d.blobs);
      points.set(d.seq, Array.from({ length: d.count }, (_, i) => [b[i * BLOB_STRIDE]!, b[i * BLOB_STRIDE + 1]!]));
      if (!out) return;
      const blobs = Array.from({ length: d.count }, (_, i) => Object.fromEntries(BLOB_FIELDS.map((f, j) => [f, b[i * BLOB_STRIDE + j]!])));
      out.write(`${JSON.stringify({ frame: d.seq, t_ns: String(d.t_ns), count: d.count, overflow: d.overflow, blobs })}\n`);
    },
    new AbortController().signal,
    (reason) => log.warn({ reason }, 'motion kernel: TypeScript reference (no native addon)'),
  );
  if (out) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const summary = {
    video,
    width: probe.width,
    height: probe.height,
    bits: probe.bpp * 8,
    fps,
    // The first frame is the background and the next warmupFrames only train it.
    warmup_frames: params.warmupFrames + 1,
    frames_detected: frames,
    detections_per_frame: frames ? detections / frames : 0,
    overflow,
    // Frames that looked like coded video, whose noise estimate then held its peaks (motion param noiseHoldFrames).
    coded_frames: coded,
    ...(mask && { mask: o.mask }),
    seconds: (performance.now() - started) / 1000,
    ...(labels && { labels: o.labels, score: scoreAgainstBoxes(points, labels, o.marginPx ?? 2) }),
  };
  const text = `${JSON.stringify(summary, null, 2)}\n`;
  process.stdout.write(text);
  if (o.report) writeFileSync(o.report, text);
  return 0;
}

function readLabels(file: string, origin: number) {
  if (!existsSync(file)) throw new UsageError(`--labels: ${file}: no such file`);
  try {
    return readBoxLabels(file, origin);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
