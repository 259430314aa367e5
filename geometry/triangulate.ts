/**
 * Multi-view triangulation: a linear estimate (the point nearest every ray), refined by
 * Gauss–Newton on the reprojection error weighted by each detection's pixel covariance. The
 * covariance of the result is the inverse of the Gauss–Newton normal matrix, so it carries the
 * pixel noise and the rig geometry (baseline, range, angles) of exactly these views.
 */
import type { Camera } from './camera.js';
import { invert3, type Mat3, type Vec3 } from './vec3.js';

/** One camera's observation: pixel (u, v) and its 2×2 covariance [var_u, cov_uv, var_v] (px²). */
export interface View {
  camera: Camera;
  u: number;
  v: number;
  cov: readonly [number, number, number];
}

export interface Triangulated {
  position: Vec3;
  /** 3×3 row-major (m²). */
  covariance: Mat3;
  /** Σ of the squared Mahalanobis reprojection errors (2 dof per view). */
  chi2: number;
  /** Per view, its squared Mahalanobis reprojection error. */
  residuals: number[];
}

export interface TriangulateOptions {
  /** Gauss–Newton iterations at most. */
  iterations: number;
  /** Stop once a step is below this many metres. */
  tolerance: number;
}

const DEFAULTS: TriangulateOptions = { iterations: 8, tolerance: 1e-6 };

/** The point that minimises the summed squared distance to the rays (undefined when they are parallel). */
export function nearestToRays(origins: readonly Vec3[], dirs: readonly Vec3[], weights?: readonly number[]): Vec3 | undefined {
  const A = [0, 0, 0, 0, 0, 0, 0, 0, 0];
  const b = [0, 0, 0];
  for (let k = 0; k < origins.length; k++) {
    const d = dirs[k]!;
    const c = origins[k]!;
    const w = weights?.[k] ?? 1;
    for (let i = 0; i < 3; i++) {
      for (let j = 0; j < 3; j++) {
        const m = w * ((i === j ? 1 : 0) - d[i]! * d[j]!);
        A[i * 3 + j]! += m;
        b[i]! += m * c[j]!;
      }
    }
  }
  const inv = invert3(A as unknown as Mat3, 1e-18);
  if (!inv) return undefined;
  return [inv[0] * b[0]! + inv[1] * b[1]! + inv[2] * b[2]!, inv[3] * b[0]! + inv[4] * b[1]! + inv[5] * b[2]!, inv[6] * b[0]! + inv[7] * b[1]! + inv[8] * b[2]!];
}

/** Triangulates one point from two or more views; undefined when the geometry is degenerate. */
export function triangulate(views: readonly View[], options: Partial<TriangulateOptions> = {}): Triangulated | undefined {
  if (views.length < 2) return undefined;
  const o = { ...DEFAULTS, ...options };
  // Rays weighted by 1/range² after a first unweighted pass: far cameras then count as much
  // angularly as near ones, which is what the reprojection error measures.
  const origins = views.map((w) => w.camera.center);
  const dirs = views.map((w) => w.camera.ray(w.u, w.v));
  let p = nearestToRays(origins, dirs);
  if (!p) return undefined;
  const p0 = p;
  p = nearestToRays(origins, dirs, origins.map((c) => 1 / Math.max(1e-6, (p0[0] - c[0]) ** 2 + (p0[1] - c[1]) ** 2 + (p0[2] - c[2]) ** 2))) ?? p;
  const winv = views.map((w): [number, number, number] => {
    const [a, c, d] = w.cov;
    const det = a * d - c * c;
    return det > 0 ? [d / det, -c / det, a / det] : [1 / Math.max(a, 1e-12), 0, 1 / Math.max(d, 1e-12)];
  });
  let H: Mat3 | undefined;
  for (let it = 0; it <= o.iterations; it++) {
    const h = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    const g = [0, 0, 0];
    for (const [k, w] of views.entries()) {
      const pj = w.camera.projectWithJacobian(p);
      if (!pj) return undefined;
      const ru = w.u - pj.u;
      const rv = w.v - pj.v;
      const [a, c, d] = winv[k]!;
      const J = pj.J;
      // Jᵀ W J and Jᵀ W r, with W = [[a, c], [c, d]].
      for (let i = 0; i < 3; i++) {
        const wi0 = a * J[i]! + c * J[3 + i]!;
        const wi1 = c * J[i]! + d * J[3 + i]!;
        g[i]! += wi0 * ru + wi1 * rv;
        for (let j = 0; j < 3; j++) h[i * 3 + j]! += wi0 * J[j]! + wi1 * J[3 + j]!;
      }
    }
    H = invert3(h as unknown as Mat3);
    if (!H) return undefined;
    if (it === o.iterations) break;
    const step: Vec3 = [H[0] * g[0]! + H[1] * g[1]! + H[2] * g[2]!, H[3] * g[0]! + H[4] * g[1]! + H[5] * g[2]!, H[6] * g[0]! + H[7] * g[1]! + H[8] * g[2]!];
    p = [p[0] + step[0], p[1] + step[1], p[2] + step[2]];
    if (Math.hypot(step[0], step[1], step[2]) < o.tolerance) {
      // One more pass so H and the residuals belong to the final point.
      o.iterations = it + 1;
    }
  }
  const residuals = views.map((w, k) => {
    const q = w.camera.project(p!);
    if (!q) return Infinity;
    const [a, c, d] = winv[k]!;
    const ru = w.u - q[0];
    const rv = w.v - q[1];
    return a * ru * ru + 2 * c * ru * rv + d * rv * rv;
  });
  return { position: p, covariance: H!, chi2: residuals.reduce((s, r) => s + r, 0), residuals };
}

/**
 * Triangulates and, while a view's reprojection error exceeds `gateChi2` (2 dof) and more than
 * `minViews` remain, drops the worst view and retries: one wrong association cannot drag the
 * point away. Returns the result and the indices of the views kept.
 */
export function triangulateRobust(views: readonly View[], gateChi2: number, minViews = 2, options: Partial<TriangulateOptions> = {}): { result: Triangulated; kept: number[] } | undefined {
  let kept = views.map((_, i) => i);
  while (kept.length >= minViews) {
    const r = triangulate(
      kept.map((i) => views[i]!),
      options,
    );
    if (!r) return undefined;
    let worst = 0;
    for (let k = 1; k < r.residuals.length; k++) if (r.residuals[k]! > r.residuals[worst]!) worst = k;
    if (r.residuals[worst]! <= gateChi2) return { result: r, kept };
    if (kept.length === minViews) return undefined;
    kept = kept.filter((_, k) => k !== worst);
  }
  return undefined;
}
