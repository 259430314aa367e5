/**
 * A camera's detection mask: an 8-bit PGM image of the frame's size, non-zero where targets
 * are looked for (the sky), zero where they are not (ground, trees, a mast). Blobs whose
 * centroid falls on a zero pixel are left out after the kernel, so the background model still
 * learns every pixel and a target crossing the edge is found up to it.
 */
import { readFileSync } from 'node:fs';
import type { MotionBlob, MotionOutput } from './motion-params.js';

export interface DetectionMask {
  width: number;
  height: number;
  /** Row-major, one byte a pixel: non-zero = look here. */
  keep: Uint8Array;
}

/** Reads a binary PGM (P5, maximum value ≤ 255); an error names the file and what was expected. */
export function readDetectionMask(file: string): DetectionMask {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new TypeError(`${file}: cannot read the mask: ${(err as Error).message}`);
  }
  // Header: "P5", width, height, maxval, separated by whitespace (and # comments), then one byte of whitespace.
  const fields: string[] = [];
  let at = 0;
  while (fields.length < 4 && at < bytes.length) {
    while (at < bytes.length && /\s/.test(String.fromCharCode(bytes[at]!))) at++;
    if (bytes[at] === 0x23) {
      while (at < bytes.length && bytes[at] !== 0x0a) at++;
      continue;
    }
    const start = at;
    while (at < bytes.length && !/\s/.test(String.fromCharCode(bytes[at]!))) at++;
    fields.push(bytes.subarray(start, at).toString('latin1'));
  }
  const [magic, w, h, max] = [fields[0], Number(fields[1]), Number(fields[2]), Number(fields[3])];
  if (magic !== 'P5' || !Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1 || !(max >= 1 && max <= 255)) {
    throw new TypeError(`${file}: expected a binary 8-bit PGM (P5, e.g. ffmpeg -i mask.png -pix_fmt gray mask.pgm), got header ${JSON.stringify(fields.join(' '))}`);
  }
  const keep = bytes.subarray(at + 1, at + 1 + w * h);
  if (keep.length !== w * h) throw new TypeError(`${file}: expected ${w * h} pixels after the header, got ${keep.length}`);
  return { width: w, height: h, keep: new Uint8Array(keep) };
}

/** Checks the mask fits frames of this size; an error says both sizes. */
export function checkMaskSize(mask: DetectionMask, width: number, height: number, what = 'mask'): void {
  if (mask.width !== width || mask.height !== height) throw new TypeError(`${what}: expected ${width}×${height} pixels (the frame's size), got ${mask.width}×${mask.height}`);
}

const masks = new Map<string, DetectionMask>();

/** readDetectionMask, once per file for the process (a rig's masks are read by several stages). */
export function detectionMaskFile(file: string): DetectionMask {
  let m = masks.get(file);
  if (!m) masks.set(file, (m = readDetectionMask(file)));
  return m;
}

/** Whether the mask looks for targets at (x, y) (the nearest pixel; outside the frame, the nearest edge pixel). */
export function looksAt(mask: DetectionMask, x: number, y: number): boolean {
  const { width, height, keep } = mask;
  const px = Math.min(width - 1, Math.max(0, Math.round(x)));
  const py = Math.min(height - 1, Math.max(0, Math.round(y)));
  return keep[py * width + px] !== 0;
}

/** Leaves out the blobs whose centroid lies on a zero pixel of the mask, counting them. */
export function applyDetectionMask(out: MotionOutput, mask: DetectionMask): MotionOutput {
  if (out.blobs.length === 0) return out;
  const kept: MotionBlob[] = out.blobs.filter((b) => looksAt(mask, b.x, b.y));
  return kept.length === out.blobs.length ? out : { ...out, blobs: kept, masked: (out.masked ?? 0) + out.blobs.length - kept.length };
}
