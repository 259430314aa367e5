/**
 * A motion task: decode one camera's recorded video with ffmpeg, run the motion kernel over
 * frames [from − warmup, to) and hand on the detections of frames [from, to), stamped with the
 * times and sequence numbers of the video's frame index. From frame 0, this is exactly what
 * the camera's live motion actor computed from the same frames.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { openMotionKernel, packBlobs } from '../../kernels/motion-kernel.js';
import type { DetectionMask } from '../../kernels/detection-mask.js';
import type { MotionParams } from '../../kernels/motion-params.js';
import type { DetectionFrame } from '../../schemas/detections.js';
import type { MessageOf } from '../../schemas/message.js';
import { spawnGuarded } from '../../supervisors/os-process.js';

export interface IndexEntry {
  seq: number;
  t_ns: bigint;
}

/** Reads a frame index (`seq t_ns` per line, `#` comments); an error names the file and line. */
export function readFrameIndex(file: string): IndexEntry[] {
  const out: IndexEntry[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const l = raw.trim();
      if (!l || l.startsWith('#')) return;
      const m = /^(\d+)\s+(\d+)$/.exec(l);
      if (!m) throw new TypeError(`${file}: line ${i + 1}: expected "<seq> <t_ns>", got ${JSON.stringify(l)}`);
      out.push({ seq: Number(m[1]), t_ns: BigInt(m[2]!) });
    });
  return out;
}

/** Width, height and bytes per pixel the decoder will give for a video, and its frame rate when it declares one (ffprobe). */
export async function probeVideo(video: string, ffprobe = 'ffprobe'): Promise<{ width: number; height: number; bpp: 1 | 2; fps?: number }> {
  let stdout: string;
  try {
    ({ stdout } = await promisify(execFile)(ffprobe, ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,pix_fmt,r_frame_rate', '-of', 'json', video]));
  } catch (err) {
    throw new Error(`${video}: ffprobe cannot read it: ${String((err as { stderr?: string }).stderr || (err as Error).message).trim().split('\n').slice(-2).join(' | ')}`);
  }
  const s = (JSON.parse(stdout) as { streams?: { width?: number; height?: number; pix_fmt?: string; r_frame_rate?: string }[] }).streams?.[0];
  if (!s?.width || !s.height) throw new Error(`${video}: no video stream`);
  const [num, den] = (s.r_frame_rate ?? '').split('/').map(Number);
  const fps = num && den ? num / den : undefined;
  // More than 8 bits per sample stays 16-bit, as the camera delivered it.
  return { width: s.width, height: s.height, bpp: /^gray(1[0-6]|9)|p1[0-6]/.test(s.pix_fmt ?? '') ? 2 : 1, ...(fps && Number.isFinite(fps) && { fps }) };
}

export interface MotionTaskInput {
  cam: string;
  video: string;
  /** The frame index file, or each frame's entry (then `to` may be Infinity: to the video's end). */
  index: string | ((k: number) => IndexEntry);
  from: number;
  to: number;
  warmup: number;
  params?: Partial<MotionParams>;
  /** Blobs outside it are left out (kernels/detection-mask.ts). */
  mask?: DetectionMask;
  ffmpeg?: string;
}

/** Runs the task; `emit` takes each published frame's detections; returns how many were emitted. */
export async function runMotionTask(t: MotionTaskInput, emit: (d: MessageOf<typeof DetectionFrame>) => void, signal: AbortSignal, onFallback: (reason: string) => void): Promise<number> {
  const listed = typeof t.index === 'string' ? readFrameIndex(t.index) : undefined;
  const entry = listed ? (k: number) => listed[k]! : (t.index as (k: number) => IndexEntry);
  const to = Math.min(t.to, listed?.length ?? Infinity);
  const first = Math.max(0, t.from - t.warmup);
  const { width, height, bpp } = await probeVideo(t.video);
  const kernel = openMotionKernel(width, height, bpp, t.params ?? {}, onFallback, t.mask);
  const proc = spawnGuarded(t.ffmpeg ?? 'ffmpeg', ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', t.video, '-map', '0:v:0', '-f', 'rawvideo', '-pix_fmt', bpp === 2 ? 'gray16le' : 'gray', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
  const stop = () => void proc.stop(500);
  signal.addEventListener('abort', stop, { once: true });
  const frameBytes = width * height * bpp;
  const frame = new Uint8Array(frameBytes);
  let fill = 0;
  let k = 0;
  let emitted = 0;
  try {
    // Read at the kernel's pace: the pipe holds ffmpeg back while a frame is processed.
    for await (const chunk of proc.child.stdout! as AsyncIterable<Buffer>) {
      let at = 0;
      while (at < chunk.length && k < to) {
        const n = Math.min(frameBytes - fill, chunk.length - at);
        frame.set(chunk.subarray(at, at + n), fill);
        fill += n;
        at += n;
        if (fill < frameBytes) break;
        fill = 0;
        if (k >= first) {
          const out = await kernel.run(frame);
          if (k >= t.from && !out.warmingUp) {
            const e = entry(k);
            emit({ t_ns: e.t_ns, cam: t.cam, seq: e.seq, width, height, count: out.blobs.length, overflow: out.overflow, ...(out.coded ? { coded: true } : {}), blobs: packBlobs(out) });
            emitted++;
          }
        }
        k++;
      }
      if (k >= to || signal.aborted) break;
    }
  } finally {
    signal.removeEventListener('abort', stop);
    if (k >= to) await proc.stop(500);
  }
  if (signal.aborted) throw new Error('aborted');
  const { code } = await proc.exited;
  if (code !== 0 && k < to) throw new Error(`${t.video}: ffmpeg failed (exit ${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  if (k < to && Number.isFinite(to)) throw new Error(`${t.video}: the video ends after ${k} frames, its index lists ${listed?.length ?? to}`);
  return emitted;
}
