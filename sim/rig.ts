/** The scenario's cameras as calibrated camera models with their band, pair and clock. */
import { Camera, type Distortion, intrinsicsFromFov } from '../geometry/camera.js';
import { fromCameraQuat, fromYawPitchRoll, lookAt, rotationFromVector } from '../geometry/rotation.js';
import { type Mat3, mulMM } from '../geometry/vec3.js';
import { Rng } from './rng.js';
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

/**
 * Every camera as it really stands: each entry's `calibration_error` turns it by a random
 * rotation (rotation_deg rms about each of its axes) and moves it (position_m rms along each
 * world axis), drawn from the scenario's seed. The simulator images through these; skyvox
 * knows only the calibration as written (rigOf), as a real rig's software does.
 */
export function trueRigOf(s: Scenario): RigCamera[] {
  return s.cameras.map((spec) => {
    const cam = rigCamera(spec);
    const err = spec.calibration_error;
    if (!err || (!err.rotation_deg && !err.position_m)) return cam;
    const rng = Rng.derive(s.seed, `calibration/${spec.id}`);
    const sigma = ((err.rotation_deg ?? 0) * Math.PI) / 180;
    // A turn of the camera about its own axes: world-to-camera R becomes ΔR·R.
    const turn = rotationFromVector([sigma * rng.normal(), sigma * rng.normal(), sigma * rng.normal()]);
    const p = err.position_m ?? 0;
    const c = cam.model.center;
    const center: [number, number, number] = [c[0] + p * rng.normal(), c[1] + p * rng.normal(), c[2] + p * rng.normal()];
    const m = cam.model;
    return { ...cam, model: Camera.at(center, mulMM(turn, m.R), { width: m.width, height: m.height, K: m.K, dist: m.dist }) };
  });
}

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
