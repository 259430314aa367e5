import assert from 'node:assert/strict';
import { associateAndTriangulate, detectionRay, type PairDetections, type SingleView } from '../actors/voxel/associate.js';
import { rayAsPoint } from '../geometry/ray-point.js';
import { Camera, intrinsicsFromFov } from '../geometry/camera.js';
import { lookAt } from '../geometry/rotation.js';
import { triangulate, triangulateRobust, type View } from '../geometry/triangulate.js';
import type { Mat3, Vec3 } from '../geometry/vec3.js';
import { assignSparse } from '../kernels/assign.js';
import { FUSED_STRIDE } from '../schemas/fused.js';
import { Rng } from '../sim/rng.js';
import { munkres } from 'munkres';

/** Cameras on a ring of radius r looking at `target`, with a mild lens distortion. */
function ring(n: number, r: number, target: Vec3): Camera[] {
  return Array.from({ length: n }, (_, i) => {
    const a = (2 * Math.PI * i) / n;
    const eye: Vec3 = [r * Math.cos(a), r * Math.sin(a), 3];
    return Camera.at(eye, lookAt(eye, target), { width: 4096, height: 3000, K: intrinsicsFromFov(4096, 3000, 60), dist: [-0.05, 0.01, 0.0005, -0.0003, 0] });
  });
}

const close = (a: number[], b: number[], tol: number) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol, `${v} vs ${b[i]}`));

const view = (c: Camera, p: Vec3, rng: Rng, sigma: number): View => {
  const [u, v] = c.project(p)!;
  return { camera: c, u: u + sigma * rng.normal(), v: v + sigma * rng.normal(), cov: [sigma * sigma, 0, sigma * sigma] };
};

describe('triangulation and association', () => {
  it('the projection Jacobian matches finite differences, distortion included', () => {
    const [cam] = ring(1, 900, [0, 0, 300]);
    const rng = new Rng(3);
    for (let k = 0; k < 50; k++) {
      const p: Vec3 = [rng.uniform(-300, 300), rng.uniform(-300, 300), rng.uniform(100, 500)];
      const pj = cam!.projectWithJacobian(p)!;
      const [u, v] = cam!.project(p)!;
      assert.ok(Math.abs(pj.u - u) < 1e-9 && Math.abs(pj.v - v) < 1e-9);
      for (let a = 0; a < 3; a++) {
        const h = 1e-4;
        const hi = [...p] as [number, number, number];
        const lo = [...p] as [number, number, number];
        hi[a] = hi[a]! + h;
        lo[a] = lo[a]! - h;
        const [uh, vh] = cam!.project(hi)!;
        const [ul, vl] = cam!.project(lo)!;
        assert.ok(Math.abs((uh - ul) / (2 * h) - pj.J[a]!) < 1e-4 * (1 + Math.abs(pj.J[a]!)), `du/dp${a}`);
        assert.ok(Math.abs((vh - vl) / (2 * h) - pj.J[3 + a]!) < 1e-4 * (1 + Math.abs(pj.J[3 + a]!)), `dv/dp${a}`);
      }
    }
  });

  it('is exact without noise, and its covariance predicts the scatter under pixel noise', () => {
    const target: Vec3 = [40, -25, 320];
    const cams = ring(5, 1000, [0, 0, 300]);
    const exact = triangulate(cams.map((c) => view(c, target, new Rng(1), 0)))!;
    exact.position.forEach((v, a) => assert.ok(Math.abs(v - target[a]!) < 1e-6, `axis ${a}: ${v}`));
    // Monte Carlo: normalised errors eᵀ C⁻¹ e average 3 (χ² with 3 dof) when the covariance is right.
    const rng = new Rng(2);
    let nees = 0;
    const runs = 400;
    for (let k = 0; k < runs; k++) {
      const r = triangulate(cams.map((c) => view(c, target, rng, 0.3)))!;
      const e = [r.position[0] - target[0], r.position[1] - target[1], r.position[2] - target[2]];
      const C = r.covariance;
      const det = C[0] * (C[4] * C[8] - C[5] * C[7]) - C[1] * (C[3] * C[8] - C[5] * C[6]) + C[2] * (C[3] * C[7] - C[4] * C[6]);
      const inv = [C[4] * C[8] - C[5] * C[7], C[2] * C[7] - C[1] * C[8], C[1] * C[5] - C[2] * C[4], C[5] * C[6] - C[3] * C[8], C[0] * C[8] - C[2] * C[6], C[2] * C[3] - C[0] * C[5], C[3] * C[7] - C[4] * C[6], C[1] * C[6] - C[0] * C[7], C[0] * C[4] - C[1] * C[3]].map((x) => x / det);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) nees += (e[i]! * inv[i * 3 + j]! * e[j]!) / runs;
    }
    assert.ok(nees > 2.5 && nees < 3.5, `mean NEES ${nees}, expected ≈ 3`);
  });

  it('drops a wrong view instead of letting it drag the point', () => {
    const target: Vec3 = [0, 10, 300];
    const cams = ring(4, 900, [0, 0, 300]);
    const rng = new Rng(5);
    const views = cams.map((c) => view(c, target, rng, 0.2));
    views[2] = { ...views[2]!, u: views[2]!.u + 25 };
    const r = triangulateRobust(views, 16)!;
    assert.deepEqual(r.kept, [0, 1, 3]);
    assert.ok(Math.hypot(r.result.position[0] - target[0], r.result.position[1] - target[1], r.result.position[2] - target[2]) < 0.2);
  });

  it('sparse assignment equals dense Munkres on random gated problems', () => {
    const rng = new Rng(9);
    for (let trial = 0; trial < 30; trial++) {
      const [n, m] = [1 + Math.floor(rng.uniform(0, 12)), 1 + Math.floor(rng.uniform(0, 12))];
      const BIG = 1e9;
      const cost = Array.from({ length: n }, () => Array.from({ length: m }, () => (rng.uniform(0, 1) < 0.4 ? rng.uniform(0, 10) : BIG)));
      const edges = cost.flatMap((row, r) => row.flatMap((c, col) => (c < BIG ? [{ row: r, col, cost: c }] : [])));
      const sparse = assignSparse(edges);
      const total = (pairs: [number, number][]) => pairs.reduce((s, [r, c]) => s + cost[r]![c]!, 0);
      const dense = munkres(cost).filter(([r, c]) => cost[r]![c]! < BIG) as [number, number][];
      assert.equal(sparse.size, dense.length, 'same number of pairs');
      assert.ok(Math.abs(total([...sparse]) - total(dense)) < 1e-9, 'same total cost');
    }
  });

  it('gives each hypothesis its own detections in every camera and leaves the rest unclaimed', () => {
    const cams = ring(6, 1000, [0, 0, 300]);
    const truth: Vec3[] = [
      [0, 0, 300],
      [0.8, 0, 300.5], // 1 m from the first: the gates overlap, the assignment separates them
      [200, -150, 400],
    ];
    const rng = new Rng(11);
    const pairs: PairDetections[] = cams.map((camera) => {
      const rows: number[] = [];
      for (const p of truth) {
        const [u, v] = camera.project(p)!;
        rows.push(u + 0.1 * rng.normal(), v + 0.1 * rng.normal(), 0.01, 0.01, 0, 100, 4, 20, 50, 1, 1);
      }
      rows.push(rng.uniform(0, 4096), rng.uniform(0, 3000), 0.01, 0.01, 0, 100, 4, 20, 50, 0.3, 0); // clutter
      return { camera, blobs: Float32Array.from(rows), count: rows.length / FUSED_STRIDE, claimed: new Uint8Array(rows.length / FUSED_STRIDE) };
    });
    // Hypotheses off by 10–30 cm with a matching covariance, as a predicted track would be.
    const hyps = truth.slice(0, 2).map((p) => ({ position: [p[0] + 0.1, p[1] - 0.2, p[2] + 0.1] as Vec3, covariance: [0.09, 0, 0, 0, 0.09, 0, 0, 0, 0.09] as unknown as Mat3 }));
    const points = associateAndTriangulate(hyps, pairs);
    assert.equal(points.length, 2);
    for (const p of points) {
      const t = truth[p.hypothesis]!;
      assert.equal(p.views, 6);
      assert.ok(Math.hypot(p.position[0] - t[0], p.position[1] - t[1], p.position[2] - t[2]) < 0.05, `point ${p.hypothesis} at ${p.position}`);
    }
    // The third target and the clutter are left for voting.
    for (const pr of pairs) assert.deepEqual([...pr.claimed], [1, 1, 0, 0]);
  });

  it('a known object that one camera alone sees is listed, unclaimed; its ray, held near a point, is thin across and open along', () => {
    const cams = ring(6, 1000, [0, 0, 300]);
    const target: Vec3 = [50, -20, 320];
    const rng = new Rng(5);
    const sigma = 0.2;
    // Only camera 2 detects it; the others see one unrelated detection far from it.
    const pairs: PairDetections[] = cams.map((camera, k) => {
      const [u, v] = k === 2 ? camera.project(target)! : [100, 100];
      const row = [u + sigma * rng.normal(), v + sigma * rng.normal(), sigma * sigma, sigma * sigma, 0, 100, 4, 20, 50, 1, 1];
      return { camera, blobs: Float32Array.from(row), count: 1, claimed: new Uint8Array(1) };
    });
    const predicted: Vec3 = [target[0] + 0.3, target[1] - 0.4, target[2] + 0.5];
    const hyp = { position: predicted, covariance: [0.5, 0, 0, 0, 0.5, 0, 0, 0, 0.5] as unknown as Mat3 };
    const singles: SingleView[] = [];
    assert.deepEqual(associateAndTriangulate([hyp], pairs, {}, undefined, singles), []);
    assert.deepEqual(singles, [], 'a hypothesis that does not allow single views lists nothing');
    assert.deepEqual(associateAndTriangulate([{ ...hyp, singleView: true }], pairs, {}, undefined, singles), []);
    assert.deepEqual(singles, [{ hypothesis: 0, pair: 2, detection: 0 }]);
    assert.ok(pairs.every((p) => p.claimed[0] === 0), 'left unclaimed for the vote');

    const ray = detectionRay(pairs[2]!, 0, 0.01);
    const c = cams[2]!.center;
    const d = cams[2]!.ray(pairs[2]!.blobs[0]!, pairs[2]!.blobs[1]!);
    close([...ray.origin, ...ray.dir], [...c, ...d], 0);
    assert.ok(Math.abs(ray.angleVar / ((sigma * sigma + 0.01) / cams[2]!.fx ** 2) - 1) < 1e-6, 'the pixel variance as an angle');
    const m = rayAsPoint(ray, predicted, 1e4);
    // On the ray, at the prediction's foot.
    const along = (predicted[0] - c[0]) * d[0] + (predicted[1] - c[1]) * d[1] + (predicted[2] - c[2]) * d[2];
    close([...m.position], [c[0] + along * d[0], c[1] + along * d[1], c[2] + along * d[2]], 1e-9);
    assert.ok(Math.abs(m.range - along) < 1e-9);
    // Its variance along the ray is the one asked for; across it, the angular noise at that range.
    const C = m.covariance;
    const quad = (x: number[]) => x.reduce((acc, xi, i) => acc + xi * (C[i * 3]! * x[0]! + C[i * 3 + 1]! * x[1]! + C[i * 3 + 2]! * x[2]!), 0);
    assert.ok(Math.abs(quad([...d]) / 1e4 - 1) < 1e-9);
    const across = [d[1], -d[0], 0].map((v) => v / Math.hypot(d[0], d[1]));
    const expected = ray.angleVar * along * along;
    assert.ok(Math.abs(quad(across) / expected - 1) < 1e-6, `${quad(across)} vs ${expected}`);
    // The target lies within 3σ of it across the ray.
    const off = [target[0] - m.position[0], target[1] - m.position[1], target[2] - m.position[2]];
    const offAlong = off[0]! * d[0] + off[1]! * d[1] + off[2]! * d[2];
    const perp = Math.hypot(off[0]! - offAlong * d[0], off[1]! - offAlong * d[1], off[2]! - offAlong * d[2]);
    assert.ok(perp < 3 * Math.sqrt(expected), `${perp} m across the ray`);
  });
});
