import assert from 'node:assert/strict';
import { Camera, intrinsicsFromFov } from '../geometry/camera.js';
import { fromCameraQuat, fromYawPitchRoll, lookAt, matToQuat, quatToMat } from '../geometry/rotation.js';
import { dot, type Mat3, mulMM, norm, sub, transpose, type Vec3 } from '../geometry/vec3.js';
import { Rng } from '../sim/rng.js';

const close = (a: number, b: number, tol: number, what = '') => assert.ok(Math.abs(a - b) <= tol, `${what} ${a} vs ${b} (tol ${tol})`);
const isRotation = (R: Mat3) => {
  const I = mulMM(R, transpose(R));
  [1, 0, 0, 0, 1, 0, 0, 0, 1].forEach((v, i) => close(I[i]!, v, 1e-12, 'R·Rᵀ'));
};

describe('geometry', () => {
  it('look_at puts the target on the principal point, image down towards world down', () => {
    const eye: Vec3 = [-200, -300, 2];
    const target: Vec3 = [0, 100, 80];
    const R = lookAt(eye, target);
    isRotation(R);
    const cam = Camera.at(eye, R, { width: 1280, height: 720, K: intrinsicsFromFov(1280, 720, 50) });
    const [u, v] = cam.project(target)!;
    close(u, 639.5, 1e-9);
    close(v, 359.5, 1e-9);
    // a point above the target appears higher in the image (smaller v)
    assert.ok(cam.project([0, 100, 90])![1] < v);
    // camera centre round-trips through t = −R·C
    cam.center.forEach((c, i) => close(c, eye[i]!, 1e-9));
  });

  it('yaw/pitch/roll: heading clockwise from north, pitch above the horizon', () => {
    const R = fromYawPitchRoll(90, 30, 0); // looking east, 30° up
    const forward: Vec3 = [R[6], R[7], R[8]];
    close(forward[0], Math.cos(Math.PI / 6), 1e-12);
    close(forward[1], 0, 1e-12);
    close(forward[2], 0.5, 1e-12);
    isRotation(fromYawPitchRoll(17, -5, 12));
  });

  it('quaternions and matrices convert both ways', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 200; i++) {
      const q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()] as const;
      const R = quatToMat(q);
      isRotation(R);
      const R2 = quatToMat(matToQuat(R));
      R.forEach((v, k) => close(v, R2[k]!, 1e-9));
    }
    // the camera's orientation quaternion is camera-to-world: identity looks along world +z? no:
    // identity maps camera axes onto world axes, so the optical axis (camera z) is world up.
    const R = fromCameraQuat([1, 0, 0, 0]);
    assert.deepEqual([R[6], R[7], R[8]], [0, 0, 1]);
  });

  it('projects through Brown–Conrady distortion as OpenCV does, and rays invert it', () => {
    const K: Mat3 = [1000, 0, 640, 0, 1010, 360, 0, 0, 1];
    const dist = [-0.21, 0.05, 0.001, -0.0005, 0.01] as const;
    const cam = new Camera({ width: 1280, height: 720, K, dist, R: [1, 0, 0, 0, 1, 0, 0, 0, 1], t: [0, 0, 0] });
    // closed form for one point: x' = X/Z, r² = x'²+y'², OpenCV's distortion polynomial
    const [X, Y, Z] = [0.3, -0.2, 1];
    const [x, y] = [X / Z, Y / Z];
    const r2 = x * x + y * y;
    const radial = 1 + dist[0] * r2 + dist[1] * r2 * r2 + dist[4] * r2 ** 3;
    const xd = x * radial + 2 * dist[2] * x * y + dist[3] * (r2 + 2 * x * x);
    const yd = y * radial + dist[2] * (r2 + 2 * y * y) + 2 * dist[3] * x * y;
    const [u, v] = cam.project([X, Y, Z])!;
    close(u, 1000 * xd + 640, 1e-9);
    close(v, 1010 * yd + 360, 1e-9);
    const rng = new Rng(2);
    for (let i = 0; i < 500; i++) {
      const px: [number, number] = [rng.uniform(0, 1279), rng.uniform(0, 719)];
      const d = cam.ray(...px);
      close(norm(d), 1, 1e-12);
      const back = cam.project([d[0] * 50, d[1] * 50, d[2] * 50])!;
      close(back[0], px[0], 1e-6, 'u');
      close(back[1], px[1], 1e-6, 'v');
    }
  });

  it('points behind the camera do not project', () => {
    const cam = Camera.at([0, 0, 0], lookAt([0, 0, 0], [0, 10, 0]), { width: 100, height: 100, K: intrinsicsFromFov(100, 100, 60) });
    assert.equal(cam.project([0, -10, 0]), undefined);
    assert.ok(dot(cam.ray(49.5, 49.5), sub([0, 10, 0], [0, 0, 0])) > 0);
  });
});
