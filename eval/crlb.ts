/**
 * The Cramér–Rao bound on 3D position error for a simulated object: the Fisher information of
 * every mono camera that sees it (projection Jacobian over its centroid noise, which the
 * scenario's sensor model gives for that object at that range), inverted.
 */
import { inverse, mat } from '../geometry/matrix.js';
import { norm, sub, type Vec3 } from '../geometry/vec3.js';
import type { RigCamera } from '../sim/rig.js';
import type { Scenario } from '../sim/scenario.js';
import { bandSensor, objectImage, pixelNoiseDn, skyLevelDn } from '../sim/sensor.js';
import { rigOf } from '../sim/rig.js';
import type { ObjectKind } from '../schemas/kinds.js';

/** RMS 3D error bound (m) at `p` for an object of `kind` and `sizeM`, or undefined if fewer than two cameras see it. */
export function crlbFor(scenario: Scenario, rig: readonly RigCamera[] = rigOf(scenario)) {
  const sensor = bandSensor(scenario, 'mono');
  return (p: Vec3, kind: ObjectKind, sizeM: number): number | undefined => {
    const J = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    let views = 0;
    for (const cam of rig) {
      if (cam.band !== 'mono') continue;
      const m = cam.model;
      const pc = m.toCamera(p);
      if (pc[2] <= 0) continue;
      const uv = m.project(p);
      if (!uv || !m.inImage(uv[0], uv[1], 1)) continue;
      const img = objectImage(kind, 'mono', sensor, sizeM, norm(sub(p, m.center)), m.fx);
      const sigmaN = pixelNoiseDn(sensor, skyLevelDn(sensor.skyDn, m.ray(uv[0], uv[1])[2]));
      const snr = Math.abs(img.flux) / (sigmaN * Math.sqrt(4 * Math.PI) * img.sigmaPx);
      const sigmaC = Math.max(0.01, (Math.SQRT2 * img.sigmaPx) / snr);
      // ∂(u, v)/∂X = [[fx/z, 0, −fx·x/z²], [0, fy/z, −fy·y/z²]] · R
      const [x, y, z] = pc;
      const A = [m.K[0] / z, 0, (-m.K[0] * x) / (z * z), 0, m.K[4] / z, (-m.K[4] * y) / (z * z)];
      const R = m.R;
      // Jp = A·R (2×3); the information Jpᵀ·Jp / σ², written out (evaluated per camera and object-frame).
      const Jp = [0, 1].flatMap((r) => [0, 1, 2].map((c) => A[r * 3]! * R[c]! + A[r * 3 + 1]! * R[3 + c]! + A[r * 3 + 2]! * R[6 + c]!));
      const w = 1 / (sigmaC * sigmaC);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) J[i * 3 + j] = J[i * 3 + j]! + (Jp[i]! * Jp[j]! + Jp[3 + i]! * Jp[3 + j]!) * w;
      views++;
    }
    if (views < 2) return undefined;
    const inv = inverse(mat(3, 3, J));
    return inv ? Math.sqrt(inv.inv.v[0]! + inv.inv.v[4]! + inv.inv.v[8]!) : undefined;
  };
}
