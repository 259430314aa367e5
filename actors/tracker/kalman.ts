/**
 * Constant-velocity Kalman filter in 3D (state x y z vx vy vz) with a white-noise
 * acceleration model, and position measurements with their own covariance.
 */
import { add, identity, inverse, mat, type Mat, mul, sub, symmetrize, transpose } from '../../geometry/matrix.js';

export interface Gaussian {
  x: Mat; // 6×1
  P: Mat; // 6×6
}

const H = mat(3, 6, [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
const HT = transpose(H);

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

/** Prediction: F·x, F·P·Fᵀ + Q. */
export function predict(g: Gaussian, dt: number, q: number): Gaussian {
  const { F, Q } = cvModel(dt, q);
  return { x: mul(F, g.x), P: symmetrize(add(mul(mul(F, g.P), transpose(F)), Q)) };
}

/** Innovation of a position measurement z (3×1) with covariance R: ν, S, S⁻¹, det S. */
export function innovation(g: Gaussian, z: Mat, R: Mat): { nu: Mat; S: Mat; Sinv: Mat; detS: number } | undefined {
  const nu = sub(z, mul(H, g.x));
  const S = symmetrize(add(mul(mul(H, g.P), HT), R));
  const inv = inverse(S);
  return inv ? { nu, S, Sinv: inv.inv, detS: inv.det } : undefined;
}

/** Squared Mahalanobis distance νᵀ S⁻¹ ν. */
export const mahalanobis2 = (nu: Mat, Sinv: Mat): number => mul(mul(transpose(nu), Sinv), nu).v[0]!;

/** Kalman update with a position measurement (Joseph form, for a covariance that stays positive). */
export function update(g: Gaussian, z: Mat, R: Mat): Gaussian | undefined {
  const inn = innovation(g, z, R);
  if (!inn) return undefined;
  const K = mul(mul(g.P, HT), inn.Sinv);
  const IKH = sub(identity(6), mul(K, H));
  const P = symmetrize(add(mul(mul(IKH, g.P), transpose(IKH)), mul(mul(K, R), transpose(K))));
  return { x: add(g.x, mul(K, inn.nu)), P };
}
