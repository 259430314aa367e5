/**
 * Orientations. World frame: local ENU (x east, y north, z up). Camera frame: OpenCV's
 * (x right, y down, z forward). `R` is world-to-camera, as in OpenCV's extrinsics.
 */
import { cross, dot, fromRows, type Mat3, normalize, sub, transpose, type Vec3 } from './vec3.js';

export type Quat = readonly [number, number, number, number]; // w, x, y, z

/** Rotation matrix of a unit quaternion (w, x, y, z); normalises it first. */
export function quatToMat(q: Quat): Mat3 {
  const n = Math.hypot(q[0], q[1], q[2], q[3]);
  if (!(n > 0)) throw new RangeError('quaternion has zero length');
  const [w, x, y, z] = [q[0] / n, q[1] / n, q[2] / n, q[3] / n];
  return [
    1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
    2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
    2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
  ];
}

/** Rotation matrix of a rotation vector (axis × angle in radians; Rodrigues). */
export function rotationFromVector(w: Vec3): Mat3 {
  const angle = Math.hypot(w[0], w[1], w[2]);
  if (angle === 0) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const k = Math.sin(angle / 2) / angle;
  return quatToMat([Math.cos(angle / 2), k * w[0], k * w[1], k * w[2]]);
}

/** Unit quaternion (w ≥ 0) of a rotation matrix (Shepperd's method). */
export function matToQuat(m: Mat3): Quat {
  const [m00, m01, m02, m10, m11, m12, m20, m21, m22] = m;
  const tr = m00 + m11 + m22;
  let q: [number, number, number, number];
  if (tr > 0) {
    const s = Math.sqrt(tr + 1) * 2;
    q = [0.25 * s, (m21 - m12) / s, (m02 - m20) / s, (m10 - m01) / s];
  } else if (m00 > m11 && m00 > m22) {
    const s = Math.sqrt(1 + m00 - m11 - m22) * 2;
    q = [(m21 - m12) / s, 0.25 * s, (m01 + m10) / s, (m02 + m20) / s];
  } else if (m11 > m22) {
    const s = Math.sqrt(1 + m11 - m00 - m22) * 2;
    q = [(m02 - m20) / s, (m01 + m10) / s, 0.25 * s, (m12 + m21) / s];
  } else {
    const s = Math.sqrt(1 + m22 - m00 - m11) * 2;
    q = [(m10 - m01) / s, (m02 + m20) / s, (m12 + m21) / s, 0.25 * s];
  }
  return q[0] < 0 ? [-q[0], -q[1], -q[2], -q[3]] : q;
}

/**
 * World-to-camera rotation for a camera at `eye` looking at `target`, image "down" as close
 * to world down as possible, then rolled by `rollDeg` about the optical axis (clockwise in
 * the image). Throws when looking straight up or down (roll undefined): use a quaternion.
 */
export function lookAt(eye: Vec3, target: Vec3, rollDeg = 0): Mat3 {
  const forward = normalize(sub(target, eye));
  return fromForward(forward, rollDeg);
}

function fromForward(forward: Vec3, rollDeg: number): Mat3 {
  const up: Vec3 = [0, 0, 1];
  if (Math.abs(dot(forward, up)) > 1 - 1e-9) throw new RangeError('look direction is vertical; the image orientation is undefined (give a quaternion)');
  let right = normalize(cross(forward, up)); // camera +x
  let down = cross(forward, right); // camera +y
  if (rollDeg !== 0) {
    const r = (rollDeg * Math.PI) / 180;
    const [c, s] = [Math.cos(r), Math.sin(r)];
    const r2: Vec3 = [c * right[0] + s * down[0], c * right[1] + s * down[1], c * right[2] + s * down[2]];
    down = [-s * right[0] + c * down[0], -s * right[1] + c * down[1], -s * right[2] + c * down[2]];
    right = r2;
  }
  return fromRows(right, down, forward);
}

/**
 * World-to-camera rotation from yaw (compass heading of the optical axis, degrees clockwise
 * from north), pitch (elevation above the horizon) and roll (about the optical axis).
 */
export function fromYawPitchRoll(yawDeg: number, pitchDeg: number, rollDeg: number): Mat3 {
  const [y, p] = [(yawDeg * Math.PI) / 180, (pitchDeg * Math.PI) / 180];
  return fromForward([Math.sin(y) * Math.cos(p), Math.cos(y) * Math.cos(p), Math.sin(p)], rollDeg);
}

/** World-to-camera rotation from the camera's orientation quaternion (camera-to-world). */
export const fromCameraQuat = (q: Quat): Mat3 => transpose(quatToMat(q));
