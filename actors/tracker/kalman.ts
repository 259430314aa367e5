/**
 * Constant-velocity Kalman filter in 3D (state x y z vx vy vz) with a white-noise
 * acceleration model, and position measurements with their own covariance.
 */
import { identity, mat, type Mat } from '../../geometry/matrix.js';
import { invert3, type Mat3 } from '../../geometry/vec3.js';

export interface Gaussian {
  x: Mat; // 6×1
  P: Mat; // 6×6
}


/** F and Q of the CV model over `dt` seconds, `q` the acceleration spectral density (m²/s³). */
export function cvModel(dt: number, q: number): { F: Mat; Q: Mat } {
  const F = identity(6);
  for (let i = 0; i < 3; i++) F.v[i * 6 + i + 3] = dt;
  const Q = mat(6, 6);
  const [a, b, c] = [(q * dt ** 3) / 3, (q * dt ** 2) / 2, q * dt];
  for (let i = 0; i < 3; i++) {
    Q.v[i * 6 + i] = a;
    Q.v[i * 6 + i + 3] = b;
    Q.v[(i + 3) * 6 + i] = b;
    Q.v[(i + 3) * 6 + i + 3] = c;
  }
  return { F, Q };
}

/**
 * Prediction: F·x, F·P·Fᵀ + Q, written out for F = [[I, dt·I], [0, I]] (the tracker's
 * innermost loop: no temporaries beyond the result). P is symmetric, so is the result: the
 * upper triangle is computed and mirrored.
 */
export function predict(g: Gaussian, dt: number, q: number): Gaussian {
  const x = g.x.v;
  const P = g.P.v;
  const xo = [x[0]! + dt * x[3]!, x[1]! + dt * x[4]!, x[2]! + dt * x[5]!, x[3]!, x[4]!, x[5]!];
  const Po = new Array<number>(36);
  const [a, b, c] = [(q * dt ** 3) / 3, (q * dt ** 2) / 2, q * dt];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const pv = P[i * 6 + j + 3]!;
      const vv = P[(i + 3) * 6 + j + 3]!;
      const d = i === j ? 1 : 0;
      Po[i * 6 + j + 3] = pv + dt * vv + d * b;
      if (j < i) continue;
      const pp = P[i * 6 + j]!;
      const vp = P[(i + 3) * 6 + j]!;
      Po[i * 6 + j] = pp + dt * (pv + vp) + dt * dt * vv + d * a;
      Po[(i + 3) * 6 + j + 3] = vv + d * c;
    }
  }
  for (let r = 1; r < 6; r++) for (let k = 0; k < r; k++) Po[r * 6 + k] = Po[k * 6 + r]!;
  return { x: mat(6, 1, xo), P: mat(6, 6, Po) };
}

/**
 * Adds white-noise acceleration of spectral density `q` (m²/s³) along the unit axis `d` over
 * `dt` seconds: the CV model's Q, confined to one direction, on top of a prediction.
 */
export function addAxisNoise(g: Gaussian, dt: number, q: number, d: readonly number[]): Gaussian {
  if (!(q > 0) || !(dt > 0)) return g;
  const P = g.P.v.slice();
  const [a, b, c] = [(q * dt ** 3) / 3, (q * dt ** 2) / 2, q * dt];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      const dd = d[i]! * d[j]!;
      P[i * 6 + j] = P[i * 6 + j]! + a * dd;
      P[i * 6 + j + 3] = P[i * 6 + j + 3]! + b * dd;
      P[(i + 3) * 6 + j] = P[(i + 3) * 6 + j]! + b * dd;
      P[(i + 3) * 6 + j + 3] = P[(i + 3) * 6 + j + 3]! + c * dd;
    }
  }
  return { x: g.x, P: mat(6, 6, P) };
}

/** Innovation of a position measurement z (3×1) with covariance R: ν, S⁻¹, det S. */
export function innovation(g: Gaussian, z: Mat, R: Mat): { nu: Mat; Sinv: Mat; detS: number } | undefined {
  const P = g.P.v;
  const nu = mat(3, 1, [z.v[0]! - g.x.v[0]!, z.v[1]! - g.x.v[1]!, z.v[2]! - g.x.v[2]!]);
  const S: number[] = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) S.push((P[i * 6 + j]! + P[j * 6 + i]!) / 2 + (R.v[i * 3 + j]! + R.v[j * 3 + i]!) / 2);
  const Sinv = invert3(S as unknown as Mat3);
  if (!Sinv) return undefined;
  const detS = S[0]! * (S[4]! * S[8]! - S[5]! * S[7]!) - S[1]! * (S[3]! * S[8]! - S[5]! * S[6]!) + S[2]! * (S[3]! * S[7]! - S[4]! * S[6]!);
  return { nu, Sinv: mat(3, 3, Sinv as unknown as number[]), detS };
}

// gateDistance's answer, reused: the gate asks it of every track–measurement pair in reach.
const gateAnswer = { d2: 0, detS: 0 };

/**
 * The squared Mahalanobis distance of position `z` (covariance `R`, 3×3 row-major) from `g`
 * and det S — innovation() then mahalanobis2(), bit for bit, without their temporaries. The
 * answer is overwritten by the next call; undefined when S is singular.
 */
export function gateDistance(g: Gaussian, z: readonly number[], R: readonly number[]): { d2: number; detS: number } | undefined {
  const P = g.P.v;
  const x = g.x.v;
  // S = sym(P) + sym(R), named as invert3 names its entries.
  const a = (P[0]! + P[0]!) / 2 + (R[0]! + R[0]!) / 2;
  const b = (P[1]! + P[6]!) / 2 + (R[1]! + R[3]!) / 2;
  const c = (P[2]! + P[12]!) / 2 + (R[2]! + R[6]!) / 2;
  const d = (P[6]! + P[1]!) / 2 + (R[3]! + R[1]!) / 2;
  const e = (P[7]! + P[7]!) / 2 + (R[4]! + R[4]!) / 2;
  const f = (P[8]! + P[13]!) / 2 + (R[5]! + R[7]!) / 2;
  const h = (P[12]! + P[2]!) / 2 + (R[6]! + R[2]!) / 2;
  const k = (P[13]! + P[8]!) / 2 + (R[7]! + R[5]!) / 2;
  const l = (P[14]! + P[14]!) / 2 + (R[8]! + R[8]!) / 2;
  // invert3's arithmetic, in its order.
  const A = e * l - f * k;
  const B = f * h - d * l;
  const C = d * k - e * h;
  const det = a * A + b * B + c * C;
  if (!Number.isFinite(det) || Math.abs(det) <= 1e-300) return undefined;
  const q = 1 / det;
  const n0 = z[0]! - x[0]!;
  const n1 = z[1]! - x[1]!;
  const n2 = z[2]! - x[2]!;
  let d2 = 0;
  d2 += n0 * (A * q * n0 + (c * k - b * l) * q * n1 + (b * f - c * e) * q * n2);
  d2 += n1 * (B * q * n0 + (a * l - c * h) * q * n1 + (c * d - a * f) * q * n2);
  d2 += n2 * (C * q * n0 + (b * h - a * k) * q * n1 + (a * e - b * d) * q * n2);
  gateAnswer.d2 = d2;
  gateAnswer.detS = a * (e * l - f * k) - b * (d * l - f * h) + c * (d * k - e * h);
  return gateAnswer;
}

/** Squared Mahalanobis distance νᵀ S⁻¹ ν (3-vectors). */
export function mahalanobis2(nu: Mat, Sinv: Mat): number {
  const n = nu.v;
  const m = Sinv.v;
  let d = 0;
  for (let i = 0; i < 3; i++) d += n[i]! * (m[i * 3]! * n[0]! + m[i * 3 + 1]! * n[1]! + m[i * 3 + 2]! * n[2]!);
  return d;
}

/** Kalman update with a position measurement (Joseph form, for a covariance that stays positive). */
export function update(g: Gaussian, z: Mat, R: Mat): Gaussian | undefined {
  const inn = innovation(g, z, R);
  return inn && updateWith(g, inn, R);
}

// The update's intermediates, never kept past a call: the tracker's innermost loop allocates only its result.
const gainK = new Float64Array(18);
const reducedA = new Float64Array(36);
const noiseRKt = new Float64Array(18);
const josephP = new Float64Array(36);

/** The update, given the measurement's innovation against `g` (innovation()). */
export function updateWith(g: Gaussian, inn: { nu: Mat; Sinv: Mat }, R: Mat): Gaussian {
  const P = g.P.v;
  const Si = inn.Sinv.v;
  const nu = inn.nu.v;
  // K = P Hᵀ S⁻¹: P's first three columns times S⁻¹ (6×3).
  const K = gainK;
  for (let i = 0; i < 6; i++) for (let j = 0; j < 3; j++) K[i * 3 + j] = P[i * 6]! * Si[j]! + P[i * 6 + 1]! * Si[3 + j]! + P[i * 6 + 2]! * Si[6 + j]!;
  const xv = g.x.v;
  const x = new Array<number>(6);
  for (let i = 0; i < 6; i++) x[i] = xv[i]! + K[i * 3]! * nu[0]! + K[i * 3 + 1]! * nu[1]! + K[i * 3 + 2]! * nu[2]!;
  // A = (I − K H) P, then Joseph: A (I − K H)ᵀ + K R Kᵀ.
  const A = reducedA;
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) A[i * 6 + j] = P[i * 6 + j]! - (K[i * 3]! * P[j]! + K[i * 3 + 1]! * P[6 + j]! + K[i * 3 + 2]! * P[12 + j]!);
  const Rv = R.v;
  // R Kᵀ (3×6), column j the sum the Joseph term needs for every row i.
  const RKt = noiseRKt;
  for (let a = 0; a < 3; a++) for (let j = 0; j < 6; j++) RKt[a * 6 + j] = Rv[a * 3]! * K[j * 3]! + Rv[a * 3 + 1]! * K[j * 3 + 1]! + Rv[a * 3 + 2]! * K[j * 3 + 2]!;
  const J = josephP;
  for (let i = 0; i < 6; i++) {
    for (let j = 0; j < 6; j++) {
      // (A (I − KH)ᵀ)_ij = A_ij − Σ_k A_ik K_jk over the three position columns k.
      let v = A[i * 6 + j]! - (A[i * 6]! * K[j * 3]! + A[i * 6 + 1]! * K[j * 3 + 1]! + A[i * 6 + 2]! * K[j * 3 + 2]!);
      for (let a = 0; a < 3; a++) v += K[i * 3 + a]! * RKt[a * 6 + j]!;
      J[i * 6 + j] = v;
    }
  }
  // Symmetric to the last bit: each entry the mean of it and its mirror.
  const Po = new Array<number>(36);
  for (let i = 0; i < 6; i++) for (let j = 0; j < 6; j++) Po[i * 6 + j] = (J[i * 6 + j]! + J[j * 6 + i]!) / 2;
  return { x: mat(6, 1, x), P: mat(6, 6, Po) };
}
