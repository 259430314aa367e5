/**
 * One camera's ray as a 3D measurement of an object near a known point: the ray's point
 * nearest it, with a covariance thin across the ray (the direction's angular noise at that
 * range) and open along it. A filter then takes from it only what the ray says, whatever the
 * point it was placed near; the next camera's ray pins the depth this one left open.
 */
import type { Vec3 } from './vec3.js';

/** A ray from a camera centre through a detection. */
export interface RayObservation {
  origin: Vec3;
  /** Unit direction. */
  dir: Vec3;
  /** Variance of the direction across the ray (rad², per axis). */
  angleVar: number;
}

/** The ray's point nearest `near`, its covariance (3×3 row-major, m²) and range; `openVar` (m²) along the ray. */
export function rayAsPoint(r: RayObservation, near: readonly number[], openVar: number): { position: Vec3; covariance: number[]; range: number } {
  const [o, d] = [r.origin, r.dir];
  const range = Math.max(0, (near[0]! - o[0]) * d[0] + (near[1]! - o[1]) * d[1] + (near[2]! - o[2]) * d[2]);
  const position: Vec3 = [o[0] + d[0] * range, o[1] + d[1] * range, o[2] + d[2] * range];
  const across = r.angleVar * range * range;
  const covariance: number[] = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) covariance.push((i === j ? across : 0) + (openVar - across) * d[i]! * d[j]!);
  return { position, covariance, range };
}
