/**
 * OpenCV's pinhole camera with Brown–Conrady distortion: K, dist (k1 k2 p1 p2 k3), R, t with
 * x_cam = R·x_world + t. Pixel centres sit at integer coordinates, as in OpenCV, so
 * `cv::calibrateCamera` results load unchanged.
 */
import { createHash } from 'node:crypto';
import { rotationFromVector } from './rotation.js';
import { add, type Mat3, mulMM, mulMV, scale, transpose, type Vec3 } from './vec3.js';

export type Distortion = readonly [number, number, number, number, number];
export const NO_DISTORTION: Distortion = [0, 0, 0, 0, 0];

export interface CameraParams {
  width: number;
  height: number;
  K: Mat3;
  dist?: Distortion;
  R: Mat3;
  t: Vec3;
}

/** K for a horizontal field of view, square pixels, principal point at the image centre. */
export function intrinsicsFromFov(width: number, height: number, fovDeg: number): Mat3 {
  const f = width / 2 / Math.tan((fovDeg * Math.PI) / 360);
  return [f, 0, (width - 1) / 2, 0, f, (height - 1) / 2, 0, 0, 1];
}

/** A calibrated camera. */
export class Camera {
  readonly width: number;
  readonly height: number;
  readonly K: Mat3;
  readonly dist: Distortion;
  readonly R: Mat3;
  readonly t: Vec3;
  /** Camera centre in world coordinates (−Rᵀt). */
  readonly center: Vec3;
  readonly #Rt: Mat3;

  constructor(p: CameraParams) {
    this.width = p.width;
    this.height = p.height;
    this.K = p.K;
    this.dist = p.dist ?? NO_DISTORTION;
    this.R = p.R;
    this.t = p.t;
    this.#Rt = transpose(p.R);
    this.center = scale(mulMV(this.#Rt, p.t), -1);
  }

  /** A camera at `center` with world-to-camera rotation `R`. */
  static at(center: Vec3, R: Mat3, intr: { width: number; height: number; K: Mat3; dist?: Distortion }): Camera {
    return new Camera({ ...intr, R, t: scale(mulMV(R, center), -1) });
  }

  get fx(): number {
    return this.K[0];
  }

  toCamera(pw: Vec3): Vec3 {
    return add(mulMV(this.R, pw), this.t);
  }

  /** Normalised image coordinates → distorted normalised coordinates. */
  distort(x: number, y: number): [number, number] {
    const d = this.dist;
    const k1 = d[0], k2 = d[1], p1 = d[2], p2 = d[3], k3 = d[4];
    const r2 = x * x + y * y;
    const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
    return [x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x), y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y];
  }

  /** Inverse of `distort` by fixed-point iteration (converges for realistic lenses). */
  undistort(xd: number, yd: number): [number, number] {
    const dist = this.dist;
    const k1 = dist[0], k2 = dist[1], p1 = dist[2], p2 = dist[3], k3 = dist[4];
    if (k1 === 0 && k2 === 0 && p1 === 0 && p2 === 0 && k3 === 0) return [xd, yd];
    let [x, y] = [xd, yd];
    for (let i = 0; i < 20; i++) {
      const r2 = x * x + y * y;
      const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
      const dx = 2 * p1 * x * y + p2 * (r2 + 2 * x * x);
      const dy = p1 * (r2 + 2 * y * y) + 2 * p2 * x * y;
      const nx = (xd - dx) / radial;
      const ny = (yd - dy) / radial;
      if (Math.abs(nx - x) < 1e-12 && Math.abs(ny - y) < 1e-12) return [nx, ny];
      [x, y] = [nx, ny];
    }
    return [x, y];
  }

  /** Pixel of a world point, or undefined when it is behind the camera. May lie outside the image. */
  project(pw: Vec3): [number, number] | undefined {
    // toCamera and distort written out: called per object per camera per frame, their
    // intermediate arrays were a good share of a run's garbage. Same arithmetic, same order.
    const R = this.R;
    const t = this.t;
    const Z = R[6] * pw[0] + R[7] * pw[1] + R[8] * pw[2] + t[2];
    if (Z <= 1e-9) return undefined;
    const x = (R[0] * pw[0] + R[1] * pw[1] + R[2] * pw[2] + t[0]) / Z;
    const y = (R[3] * pw[0] + R[4] * pw[1] + R[5] * pw[2] + t[1]) / Z;
    const d = this.dist;
    const k1 = d[0], k2 = d[1], p1 = d[2], p2 = d[3], k3 = d[4];
    const r2 = x * x + y * y;
    const radial = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
    const xd = x * radial + 2 * p1 * x * y + p2 * (r2 + 2 * x * x);
    const yd = y * radial + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y;
    const K = this.K;
    return [K[0] * xd + K[1] * yd + K[2], K[4] * yd + K[5]];
  }

  /**
   * Pixel of a world point with the 2×3 Jacobian ∂(u, v)/∂(x, y, z) (row-major), distortion
   * included; undefined behind the camera. Triangulation and gating linearise with it.
   */
  projectWithJacobian(pw: Vec3): { u: number; v: number; J: [number, number, number, number, number, number] } | undefined {
    const R = this.R;
    const X = R[0] * pw[0] + R[1] * pw[1] + R[2] * pw[2] + this.t[0];
    const Y = R[3] * pw[0] + R[4] * pw[1] + R[5] * pw[2] + this.t[1];
    const Z = R[6] * pw[0] + R[7] * pw[1] + R[8] * pw[2] + this.t[2];
    if (Z <= 1e-9) return undefined;
    const x = X / Z;
    const y = Y / Z;
    const dist = this.dist;
    const k1 = dist[0], k2 = dist[1], p1 = dist[2], p2 = dist[3], k3 = dist[4];
    const r2 = x * x + y * y;
    const rad = 1 + r2 * (k1 + r2 * (k2 + r2 * k3));
    const dRad = k1 + r2 * (2 * k2 + 3 * k3 * r2);
    const xd = x * rad + 2 * p1 * x * y + p2 * (r2 + 2 * x * x);
    const yd = y * rad + p1 * (r2 + 2 * y * y) + 2 * p2 * x * y;
    // ∂(xd, yd)/∂(x, y)
    const a = rad + 2 * x * x * dRad + 2 * p1 * y + 6 * p2 * x;
    const b = 2 * x * y * dRad + 2 * p1 * x + 2 * p2 * y;
    const d = rad + 2 * y * y * dRad + 6 * p1 * y + 2 * p2 * x;
    const K = this.K;
    // ∂(u, v)/∂(x, y): K's upper 2×2 times the distortion Jacobian (∂yd/∂x equals ∂xd/∂y).
    const ux = K[0] * a + K[1] * b;
    const uy = K[0] * b + K[1] * d;
    const vx = K[4] * b;
    const vy = K[4] * d;
    // ∂(x, y)/∂(X, Y, Z) = [[1/Z, 0, −x/Z], [0, 1/Z, −y/Z]], then ∂(X, Y, Z)/∂p = R.
    const iz = 1 / Z;
    const c00 = ux * iz, c01 = uy * iz, c02 = -(ux * x + uy * y) * iz;
    const c10 = vx * iz, c11 = vy * iz, c12 = -(vx * x + vy * y) * iz;
    const J: [number, number, number, number, number, number] = [
      c00 * R[0] + c01 * R[3] + c02 * R[6],
      c00 * R[1] + c01 * R[4] + c02 * R[7],
      c00 * R[2] + c01 * R[5] + c02 * R[8],
      c10 * R[0] + c11 * R[3] + c12 * R[6],
      c10 * R[1] + c11 * R[4] + c12 * R[7],
      c10 * R[2] + c11 * R[5] + c12 * R[8],
    ];
    return { u: K[0] * xd + K[1] * yd + K[2], v: K[4] * yd + K[5], J };
  }

  /**
   * Pixel of a world point with its Jacobians: J by the point, as projectWithJacobian, and Jt
   * (2×3) by a small turn ω of the camera about its own axes (radians; the camera's frame turned
   * to exp([ω]×)·R, its centre fixed, as `turned` does); undefined behind the camera.
   * Self-calibration fits the rig's turns with them.
   */
  projectWithTurnJacobian(pw: Vec3): { u: number; v: number; J: readonly number[]; Jt: readonly number[] } | undefined {
    const p = this.projectWithJacobian(pw);
    if (!p) return undefined;
    const R = this.R;
    const Jw = p.J;
    // ∂(u, v)/∂x_cam = J_world·Rᵀ; a turn moves x_cam by ω × x_cam = −[x_cam]×·ω (x_cam written out, as project does).
    const t = this.t;
    const cx = R[0] * pw[0] + R[1] * pw[1] + R[2] * pw[2] + t[0];
    const cy = R[3] * pw[0] + R[4] * pw[1] + R[5] * pw[2] + t[1];
    const cz = R[6] * pw[0] + R[7] * pw[1] + R[8] * pw[2] + t[2];
    const Jt = [0, 0, 0, 0, 0, 0];
    for (let i = 0; i < 2; i++) {
      const a0 = Jw[i * 3]! * R[0] + Jw[i * 3 + 1]! * R[1] + Jw[i * 3 + 2]! * R[2];
      const a1 = Jw[i * 3]! * R[3] + Jw[i * 3 + 1]! * R[4] + Jw[i * 3 + 2]! * R[5];
      const a2 = Jw[i * 3]! * R[6] + Jw[i * 3 + 1]! * R[7] + Jw[i * 3 + 2]! * R[8];
      Jt[i * 3] = -a1 * cz + a2 * cy;
      Jt[i * 3 + 1] = a0 * cz - a2 * cx;
      Jt[i * 3 + 2] = -a0 * cy + a1 * cx;
    }
    return { u: p.u, v: p.v, J: Jw, Jt };
  }

  /**
   * A short digest of everything this model says (size, lens, pose): a correction learned
   * against one calibration is only ever applied to that same calibration.
   */
  calibrationId(): string {
    return createHash('sha256').update(JSON.stringify([this.width, this.height, this.K, this.dist, this.R, this.t])).digest('hex').slice(0, 16);
  }

  /** This camera turned by ω (radians) about its own axes, its centre and lens unchanged. */
  turned(w: Vec3): Camera {
    return Camera.at(this.center, mulMM(rotationFromVector(w), this.R), { width: this.width, height: this.height, K: this.K, dist: this.dist });
  }

  /** True when pixel (u, v) lies on the sensor (pixel centres 0..w−1, with half-pixel edges). */
  inImage(u: number, v: number, margin = 0): boolean {
    return u >= -0.5 + margin && v >= -0.5 + margin && u <= this.width - 0.5 - margin && v <= this.height - 0.5 - margin;
  }

  /** Unit world direction of the ray through pixel (u, v). */
  ray(u: number, v: number): Vec3 {
    const K = this.K;
    const yd = (v - K[5]) / K[4];
    const xd = (u - K[2] - K[1] * yd) / K[0];
    const [x, y] = this.undistort(xd, yd);
    // Rᵀ·[x, y, 1], normalised, written out (the arithmetic of mulMV and normalize).
    const Rt = this.#Rt;
    const X = Rt[0] * x + Rt[1] * y + Rt[2];
    const Y = Rt[3] * x + Rt[4] * y + Rt[5];
    const Z = Rt[6] * x + Rt[7] * y + Rt[8];
    const n = Math.hypot(X, Y, Z);
    if (!(n > 0) || !Number.isFinite(n)) throw new RangeError(`cannot normalize vector [${X}, ${Y}, ${Z}]`);
    return [X / n, Y / n, Z / n];
  }

  /** Distance along the optical axis to a world point (negative behind). */
  depth(pw: Vec3): number {
    const R = this.R;
    return R[6] * pw[0] + R[7] * pw[1] + R[8] * pw[2] + this.t[2];
  }
}
