/**
 * Lossless recording of one camera's frames: FFV1 in Matroska (8- or 16-bit grey as the
 * frames are) at `<dir>/<cam>.mkv`, and `<dir>/<cam>.frames.txt` — one `seq t_ns` line per
 * encoded frame, in order — because a container's timestamps cannot carry the site clock's
 * nanoseconds. `skyvox process` reads both back.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { type GuardedProcess, spawnGuarded } from '../supervisors/os-process.js';

/** The files a recorded camera leaves in a recording's `video/` directory. */
export const videoFiles = (dir: string, cam: string) => ({ video: join(dir, `${cam}.mkv`), index: join(dir, `${cam}.frames.txt`) });

/** Frames queued for the encoder beyond which `write` waits for it. */
const MAX_QUEUED = 8;

/** Encodes one camera's frames as they come. */
export class VideoWriter {
  readonly files: { video: string; index: string };
  #proc: GuardedProcess | undefined;
  #index: WriteStream | undefined;
  #spec: { width: number; height: number; bpp: number } | undefined;
  #queued = 0;
  #drained: (() => void)[] = [];
  #stderr: string[] = [];
  #failed: Error | undefined;
  readonly #ffmpeg: string;

  constructor(dir: string, cam: string, ffmpeg = 'ffmpeg') {
    mkdirSync(dir, { recursive: true });
    this.files = videoFiles(dir, cam);
    this.#ffmpeg = ffmpeg;
  }

  /** Appends a frame (copied before this returns; waits while the encoder is behind). */
  async write(pixels: Uint8Array, width: number, height: number, bpp: number, seq: number, t_ns: bigint): Promise<void> {
    if (this.#failed) throw this.#failed;
    if (!this.#spec) this.#open(width, height, bpp);
    const s = this.#spec!;
    if (width !== s.width || height !== s.height || bpp !== s.bpp) throw new Error(`${this.files.video}: frame ${seq} is ${width}×${height}×${bpp}, the recording ${s.width}×${s.height}×${s.bpp}`);
    this.#queued++;
    this.#proc!.child.stdin!.write(Buffer.from(pixels), () => {
      this.#queued--;
      for (const d of this.#drained.splice(0)) d();
    });
    this.#index!.write(`${seq} ${t_ns}\n`);
    while (this.#queued > MAX_QUEUED && !this.#failed) await new Promise<void>((r) => this.#drained.push(r));
  }

  /** Finishes the file (the encoder flushes on end of input; one stuck past 10 s is stopped). */
  async close(): Promise<void> {
    const proc = this.#proc;
    if (!proc) return;
    proc.child.stdin!.end();
    const done = await Promise.race([proc.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 10_000))]);
    if (!done) await proc.stop(1000);
    await new Promise<void>((r) => this.#index!.end(r));
  }

  #open(width: number, height: number, bpp: number): void {
    this.#spec = { width, height, bpp };
    // Frame times live in the index; the container's rate is nominal.
    const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', bpp === 2 ? 'gray16le' : 'gray', '-s', `${width}x${height}`, '-r', '25', '-i', '-', '-c:v', 'ffv1', '-level', '3', '-threads', '1', '-y', this.files.video];
    const proc = spawnGuarded(this.#ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.#proc = proc;
    proc.child.stderr!.on('data', (c: Buffer) => {
      this.#stderr.push(c.toString().trim());
      if (this.#stderr.length > 6) this.#stderr.shift();
    });
    proc.child.stdin!.on('error', () => {}); // reported through the exit below
    void proc.exited.then(({ code, signal }) => {
      if (code !== 0) this.#failed = new Error(`ffmpeg exited with ${signal ?? `code ${code}`} encoding ${this.files.video}: ${this.#stderr.join(' | ')}`);
      for (const d of this.#drained.splice(0)) d();
    });
    this.#index = createWriteStream(this.files.index, { flags: 'w' });
    this.#index.write('# seq t_ns (site clock), one line per frame of the video, in order\n');
  }
}
