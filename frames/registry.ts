/**
 * The node's frame rings by camera id. Actors in one node process find a camera's ring here;
 * a worker thread receives `ring.shared` instead and attaches to the same memory.
 */
import { FrameRing, type FrameRingSpec } from './frame-ring.js';

const rings = new Map<string, FrameRing>();

/** Creates (or, with the same spec, reuses) the ring of camera `cam`. */
export function openRing(cam: string, spec: FrameRingSpec): FrameRing {
  const existing = rings.get(cam);
  if (existing && JSON.stringify(existing.spec) === JSON.stringify(spec)) return existing;
  const ring = FrameRing.create(spec);
  rings.set(cam, ring);
  return ring;
}

/** The ring of camera `cam`, if its camera actor runs in this process. */
export const findRing = (cam: string): FrameRing | undefined => rings.get(cam);

/** Forgets camera `cam`'s ring (its camera actor stopped). */
export function closeRing(cam: string, ring: FrameRing): void {
  if (rings.get(cam) === ring) rings.delete(cam);
}
