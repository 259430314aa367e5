/**
 * Which of a rig's pairs could see a point. A scan whose instant lacks some pairs (a fusion
 * actor restarting after its node died, a camera down, its frames late) cannot have missed a
 * track only those pairs see: the tracker holds such a track — its coasting clock stands still,
 * as for a voxel shard that is down — instead of counting misses no sensor reported.
 */
import type { Camera } from '../../geometry/camera.js';
import type { Vec3 } from '../../geometry/vec3.js';
import { type RigCamera, rigPairs } from '../../sim/rig.js';

/** The rig's pairs, each by the camera its fused detections are in. */
export class PairCoverage {
  readonly #views: { pair: string; camera: Camera }[];

  constructor(rig: readonly RigCamera[]) {
    this.#views = rigPairs(rig).map((p) => ({ pair: p.name, camera: p.view.model }));
  }

  /**
   * For a scan made of the `present` pairs: undefined when it holds every pair of the rig, else
   * whether it observes a point for a track — some present pair sees it (one camera's ray
   * measures a known track), two for a tentative track (only a point of two pairs or more can
   * hit it; rays never do), or no absent pair does (a target leaving the rig's sight, or one
   * only present pairs see, is missed as in any scan).
   */
  observer(present: readonly string[]): ((p: Vec3, tentative: boolean) => boolean) | undefined {
    const here = new Set(present);
    if (this.#views.every((v) => here.has(v.pair))) return undefined;
    return (p, tentative) => {
      const need = tentative ? 2 : 1;
      let seenHere = 0;
      let seenAway = false;
      for (const v of this.#views) {
        if (!imaged(v.camera, p)) continue;
        if (!here.has(v.pair)) seenAway = true;
        else if (++seenHere >= need) return true;
      }
      return !seenAway;
    };
  }
}

/** Whether `p` lies in front of the camera and inside its frame. */
function imaged(camera: Camera, p: Vec3): boolean {
  const uv = camera.project(p);
  return uv !== undefined && uv[0] >= 0 && uv[0] < camera.width && uv[1] >= 0 && uv[1] < camera.height;
}
