/** The scenario's cameras as calibrated camera models with their band, pair and clock. */
import { Camera, type Distortion, intrinsicsFromFov } from '../geometry/camera.js';
import { fromCameraQuat, fromYawPitchRoll, lookAt } from '../geometry/rotation.js';
import type { Mat3 } from '../geometry/vec3.js';
import type { CameraSpec, Scenario } from './scenario.js';

export type Band = CameraSpec['band'];

/** A camera's clock relative to the site clock: t_cam = t + offset + drift·t + jitter. */
export interface CameraClock {
  offsetMs: number;
  driftPpm: number;
  jitterUs: number;
  /** Whether the site synchronises it (default): false, its stamps reach skyvox as its clock reads them. */
  synced: boolean;
}

export interface RigCamera {
  id: string;
  pair: string;
  band: Band;
  model: Camera;
  clock: CameraClock;
  dropRate: number;
  /** Its detection mask (a PGM file; kernels/detection-mask.ts), if it has one. */
  mask?: string;
}

/** Builds the calibrated camera of one scenario entry. */
export function rigCamera(c: CameraSpec): RigCamera {
  const [width, height] = c.resolution;
  const K: Mat3 = c.K ? [...c.K[0], ...c.K[1], ...c.K[2]] : intrinsicsFromFov(width, height, c.fov_deg!);
  const R = c.look_at ? lookAt(c.position, c.look_at, c.roll_deg ?? 0) : c.quaternion ? fromCameraQuat(c.quaternion) : fromYawPitchRoll(...c.ypr_deg!);
  return {
    id: c.id,
    pair: c.pair,
    band: c.band,
    model: Camera.at(c.position, R, { width, height, K, dist: c.dist as Distortion | undefined }),
    clock: { offsetMs: c.clock?.offset_ms ?? 0, driftPpm: c.clock?.drift_ppm ?? 0, jitterUs: c.clock?.jitter_us ?? 0, synced: c.clock?.synced ?? true },
    dropRate: c.drop_rate ?? 0,
    ...(c.mask === undefined ? {} : { mask: c.mask }),
  };
}

/** Every camera of the scenario. */
export const rigOf = (s: Scenario): RigCamera[] => s.cameras.map(rigCamera);

/** A camera pair: its mono and thermal cameras (either may be absent) and its view camera. */
export interface RigPair {
  name: string;
  mono?: RigCamera;
  thermal?: RigCamera;
  /** The camera whose pixels the pair's fused detections are in: its mono camera, or its thermal one without it. */
  view: RigCamera;
}

/** The rig's pairs, in the order their first camera appears. */
export function rigPairs(rig: readonly RigCamera[]): RigPair[] {
  const byName = new Map<string, { mono?: RigCamera; thermal?: RigCamera }>();
  for (const c of rig) byName.set(c.pair, { ...byName.get(c.pair), [c.band]: c });
  return [...byName].map(([name, p]) => ({ name, ...p, view: (p.mono ?? p.thermal)! }));
}
