/**
 * The decoder actor: decodes a video file or stream with an ffmpeg child process (CUDA
 * decoding when a GPU is present) to 8-bit grey, straight into its camera's frame slots, and
 * announces each frame on `skyvox.frame.<cam>` with t_ns = start_ns + the frame's timestamp.
 * The stream ending finishes the actor normally; ffmpeg failing crashes it with ffmpeg's words.
 */
import { existsSync } from 'node:fs';
import { findRing } from '../../frames/registry.js';
import { FrameDescriptor } from '../../schemas/frame.js';
import type { ActorBehavior } from '../../supervisors/actor.js';
import { type GuardedProcess, spawnGuarded } from '../../supervisors/os-process.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';

/** True when an NVIDIA device node exists, so `-hwaccel cuda` can be asked for. */
export const hasCudaDevice = () => existsSync('/dev/nvidia0');

interface Options {
  camera: string;
  input: string;
  start_ns?: bigint;
  /** Read the input at its native rate (live-like) instead of as fast as possible. */
  realtime: boolean;
  ffmpeg: string;
}

function parseOptions(raw: Record<string, unknown>): Options {
  if (typeof raw.camera !== 'string') throw new TypeError(`options.camera: expected a camera id, got ${JSON.stringify(raw.camera)}`);
  if (typeof raw.input !== 'string') throw new TypeError(`options.input: expected a file or stream URL ffmpeg can read, got ${JSON.stringify(raw.input)}`);
  return {
    camera: raw.camera,
    input: raw.input,
    start_ns: raw.start_ns !== undefined ? BigInt(raw.start_ns as string) : undefined,
    realtime: raw.realtime === true,
    ffmpeg: typeof raw.ffmpeg === 'string' ? raw.ffmpeg : 'ffmpeg',
  };
}

type Msg = { kind: 'frame'; slot: number; seq: number; t_ns: bigint } | { kind: 'ended'; code: number | null; signal: string | null };

/** Factory for the `decoder` actor kind. */
export function decoderActor(f: ActorFactoryContext): ActorBehavior<Msg> {
  const o = parseOptions(f.options);
  let proc: GuardedProcess | undefined;
  let stopping = false;
  const stderrTail: string[] = [];
  return {
    start(ctx) {
      const ring = findRing(o.camera);
      if (!ring) throw new Error(`no frame ring for camera ${o.camera} on this node: start its camera actor (source: video) before the decoder`);
      if (ring.spec.bytesPerPixel !== 1) throw new Error(`camera ${o.camera}: the decoder writes 8-bit grey, but the ring holds ${ring.spec.bytesPerPixel} bytes per pixel`);
      const startNs = o.start_ns ?? BigInt(ctx.clock.now()) * 1_000_000n;
      const { width, height } = ring.spec;
      const args = ['-hide_banner', '-nostdin', '-loglevel', 'info'];
      if (hasCudaDevice()) args.push('-hwaccel', 'cuda');
      if (o.realtime) args.push('-re');
      args.push('-i', o.input, '-map', '0:v:0', '-vf', `scale=${width}:${height}:flags=bicubic,format=gray,showinfo`, '-f', 'rawvideo', '-pix_fmt', 'gray', '-');
      proc = spawnGuarded(o.ffmpeg, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      ctx.log.info({ input: o.input, width, height, hwaccel: hasCudaDevice() }, 'decoding');

      // Frames arrive on stdout, their timestamps on stderr (showinfo); they are paired by order.
      const times: bigint[] = [];
      const filled: { slot: number | undefined; seq: number }[] = [];
      let seq = 0;
      let slot: number | undefined;
      let offset = 0;
      const frameBytes = width * height;
      const flush = () => {
        while (filled.length && times.length) {
          const done = filled.shift()!;
          const t_ns = times.shift()!;
          if (done.slot !== undefined) ctx.send({ kind: 'frame', slot: done.slot, seq: done.seq, t_ns });
        }
      };
      proc.child.stdout!.on('data', (chunk: Buffer) => {
        let at = 0;
        while (at < chunk.length) {
          if (offset === 0) {
            const before = ring.stats();
            slot = ring.beginWrite();
            const after = ring.stats();
            ctx.stats.dropped += after.dropped - before.dropped + (after.full - before.full);
          }
          const n = Math.min(frameBytes - offset, chunk.length - at);
          if (slot !== undefined) ring.pixels(slot).set(chunk.subarray(at, at + n), offset);
          offset += n;
          at += n;
          if (offset === frameBytes) {
            filled.push({ slot, seq: seq++ });
            offset = 0;
            slot = undefined;
          }
        }
        flush();
      });
      let line = '';
      proc.child.stderr!.on('data', (chunk: Buffer) => {
        line += chunk.toString();
        let nl: number;
        while ((nl = line.search(/[\r\n]/)) >= 0) {
          const text = line.slice(0, nl);
          line = line.slice(nl + 1);
          const m = /Parsed_showinfo.*\bn:\s*\d+.*\bpts_time:\s*(-?[\d.]+)/.exec(text);
          if (m) times.push(startNs + BigInt(Math.round(Number(m[1]) * 1e9)));
          else if (text.trim()) {
            stderrTail.push(text.trim());
            if (stderrTail.length > 6) stderrTail.shift();
          }
        }
        flush();
      });
      void proc.exited.then(({ code, signal }) => {
        flush();
        if (slot !== undefined) ring.abort(slot); // a partial last frame
        ctx.send({ kind: 'ended', code, signal });
      });
    },
    handle(msg, ctx) {
      if (msg.kind === 'ended') {
        if (stopping) return;
        if (msg.code === 0) {
          ctx.log.info({ input: o.input }, 'input ended');
          ctx.exit();
        } else ctx.fail(new Error(`ffmpeg exited with ${msg.signal ?? `code ${msg.code}`} decoding ${o.input}: ${stderrTail.join(' | ')}`));
        return;
      }
      const ring = findRing(o.camera)!;
      ring.commit(msg.slot, { seq: msg.seq, t_ns: msg.t_ns, exposure_us: 0 });
      const { width, height } = ring.spec;
      ctx.publish(FrameDescriptor, ctx.bus!.subjects.frame(o.camera), { t_ns: msg.t_ns, cam: o.camera, seq: msg.seq, slot: msg.slot, width, height, bytes_per_pixel: 1, exposure_us: 0, t_cam_ns: msg.t_ns, clock_synced: false });
    },
    async stop() {
      stopping = true;
      await proc?.stop(2000);
    },
  };
}
