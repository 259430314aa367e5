/**
 * A co-boresighted camera pair: thermal pixels mapped into the mono image through the
 * rotation between the two (the homography at infinity), with the parallax that mapping
 * ignores bounded for a minimum range.
 */
import type { Camera } from './camera.js';
import { add, norm, scale, sub } from './vec3.js';

export interface PairMapping {
  /** Mono pixel of the direction through thermal pixel (u, v), or undefined if behind. */
  toMono(u: number, v: number): [number, number] | undefined;
  /** Worst parallax (mono px) of the infinity mapping for objects at `minRangeM` or farther. */
  parallaxPx(minRangeM: number): number;
  /** Mono px per thermal px (for scaling thermal centroid variances). */
  scale: number;
}

/** The infinity mapping from `thermal` into `mono`. */
export function pairMapping(mono: Camera, thermal: Camera): PairMapping {
  const baseline = norm(sub(mono.center, thermal.center));
  return {
    toMono(u, v) {
      // A point along the ray far enough to be at infinity for any pixel.
      return mono.project(add(mono.center, scale(thermal.ray(u, v), 1e9)));
    },
    // On axis f·b/r; towards the corners the image scale grows by 1 + tan²θ.
    parallaxPx: (minRangeM) => ((mono.fx * baseline) / minRangeM) * (1 + (Math.hypot(mono.width, mono.height) / 2 / mono.fx) ** 2),
    scale: mono.fx / thermal.fx,
  };
}
