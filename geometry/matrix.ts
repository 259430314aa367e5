/** Small dense matrices (row-major number arrays with their size): the Kalman filter's algebra. */

export type Mat = { rows: number; cols: number; v: number[] };

export const mat = (rows: number, cols: number, v: number[] = new Array(rows * cols).fill(0)): Mat => ({ rows, cols, v });
export const identity = (n: number, s = 1): Mat => mat(n, n, Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? s : 0)));

export function mul(a: Mat, b: Mat): Mat {
  if (a.cols !== b.rows) throw new RangeError(`matrix sizes do not match (${a.rows}×${a.cols} · ${b.rows}×${b.cols})`);
  const out = mat(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++)
    for (let k = 0; k < a.cols; k++) {
      const x = a.v[i * a.cols + k]!;
      if (x === 0) continue;
      for (let j = 0; j < b.cols; j++) out.v[i * b.cols + j]! += x * b.v[k * b.cols + j]!;
    }
  return out;
}

export const transpose = (a: Mat): Mat => mat(a.cols, a.rows, Array.from({ length: a.v.length }, (_, k) => a.v[(k % a.rows) * a.cols + Math.floor(k / a.rows)]!));
export const add = (a: Mat, b: Mat): Mat => mat(a.rows, a.cols, a.v.map((x, i) => x + b.v[i]!));
export const sub = (a: Mat, b: Mat): Mat => mat(a.rows, a.cols, a.v.map((x, i) => x - b.v[i]!));
/** (A + Aᵀ)/2: keeps covariances symmetric against rounding. */
export const symmetrize = (a: Mat): Mat => mat(a.rows, a.cols, a.v.map((x, k) => (x + a.v[(k % a.cols) * a.cols + Math.floor(k / a.cols)]!) / 2));

/** Inverse and determinant by Gauss–Jordan with partial pivoting; undefined when singular. */
export function inverse(a: Mat): { inv: Mat; det: number } | undefined {
  const n = a.rows;
  const m = a.v.slice();
  const inv = identity(n).v;
  let det = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[p * n + c]!)) p = r;
    const pivot = m[p * n + c]!;
    if (Math.abs(pivot) < 1e-300) return undefined;
    if (p !== c) {
      for (let k = 0; k < n; k++) {
        [m[p * n + k], m[c * n + k]] = [m[c * n + k]!, m[p * n + k]!];
        [inv[p * n + k], inv[c * n + k]] = [inv[c * n + k]!, inv[p * n + k]!];
      }
      det = -det;
    }
    det *= pivot;
    for (let k = 0; k < n; k++) {
      m[c * n + k]! /= pivot;
      inv[c * n + k]! /= pivot;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c]!;
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        m[r * n + k]! -= f * m[c * n + k]!;
        inv[r * n + k]! -= f * inv[c * n + k]!;
      }
    }
  }
  return { inv: mat(n, n, inv), det };
}

/** Largest eigenvalue of a symmetric 3×3 (row-major; closed form, Smith 1961). */
export function largestEigenvalue3(a: readonly number[]): number {
  const [a00, a01, a02, , a11, a12, , , a22] = a as [number, number, number, number, number, number, number, number, number];
  const p1 = a01 * a01 + a02 * a02 + a12 * a12;
  const q = (a00 + a11 + a22) / 3;
  if (p1 === 0) return Math.max(a00, a11, a22);
  const p = Math.sqrt(((a00 - q) ** 2 + (a11 - q) ** 2 + (a22 - q) ** 2 + 2 * p1) / 6);
  const [b00, b11, b22] = [(a00 - q) / p, (a11 - q) / p, (a22 - q) / p];
  const [b01, b02, b12] = [a01 / p, a02 / p, a12 / p];
  const r = (b00 * (b11 * b22 - b12 * b12) - b01 * (b01 * b22 - b12 * b02) + b02 * (b01 * b12 - b11 * b02)) / 2;
  const phi = Math.acos(Math.min(1, Math.max(-1, r))) / 3;
  return q + 2 * p * Math.cos(phi);
}
