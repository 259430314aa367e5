import assert from 'node:assert/strict';
import { Camera, intrinsicsFromFov } from '../geometry/camera.js';
import { lookAt } from '../geometry/rotation.js';
import type { RigCamera } from '../sim/rig.js';
import { Rng } from '../sim/rng.js';
import { addGaussian, cameraScene, renderFrame, renderIdeal, type RenderInput } from '../sim/render.js';
import { type BandSensor, objectImage } from '../sim/sensor.js';
import { WaypointTrack } from '../sim/trajectory.js';

const sensor: BandSensor = { readNoiseDn: 2, gainEPerDn: 40, psfSigmaPx: 0.8, bitDepth: 8, skyDn: 170, thresholdSigma: 5 };
const camAt = (w = 320, h = 240, fov = 5): RigCamera => ({
  id: 'c',
  pair: 'p',
  band: 'mono',
  model: Camera.at([0, 0, 0], lookAt([0, 0, 0], [0, 1000, 100]), { width: w, height: h, K: intrinsicsFromFov(w, h, fov) }),
  clock: { offsetMs: 0, driftPpm: 0, jitterUs: 0, synced: true },
  dropRate: 0,
});

function input(cam: RigCamera, objects: RenderInput['objects'], seed = 1): RenderInput {
  return { cam, sensor, scene: { clouds: [], hot: new Int32Array(), dead: new Int32Array() }, objects, t: 0, rng: new Rng(seed), glintRateHz: 0, fps: 10 };
}

describe('pixel renderer', () => {
  it('integrates the PSF over pixels: a sub-pixel target keeps its exact flux and centroid', () => {
    const rng = new Rng(4);
    for (let i = 0; i < 50; i++) {
      const img = new Float32Array(64 * 64);
      const [u, v, sigma] = [rng.uniform(20, 44), rng.uniform(20, 44), rng.uniform(0.3, 2)];
      addGaussian(img, 64, 64, u, v, sigma, 1000);
      let [sum, mx, my] = [0, 0, 0];
      img.forEach((val, k) => {
        sum += val;
        mx += val * (k % 64);
        my += val * Math.floor(k / 64);
      });
      assert.ok(Math.abs(sum - 1000) < 0.05, `flux ${sum}`);
      // Below ~0.7 px the pixel-value centroid is pulled to pixel centres (pixel locking): physics, not error.
      if (sigma >= 0.7) assert.ok(Math.abs(mx / sum - u) < 1e-3 && Math.abs(my / sum - v) < 1e-3, `centroid at sigma ${sigma}`);
    }
  });

  it('a 0.2 m drone at 5 km (far below a pixel) leaves its true signal where the camera model puts it', () => {
    const cam = camAt(320, 240, 2);
    const p: [number, number, number] = [1.3, 5000, 500.2];
    const drone = { id: 'd', kind: 'drone' as const, sizeM: 0.2, clutter: false, track: new WaypointTrack([[0, ...p]]) };
    const sky = renderIdeal(input(cam, []));
    const withDrone = renderIdeal(input(cam, [drone]));
    const expected = objectImage('drone', 'mono', sensor, 0.2, Math.hypot(...p), cam.model.fx);
    assert.ok(expected.extentPx < 0.5, `extent ${expected.extentPx} px`);
    let [sum, mx, my] = [0, 0, 0];
    for (let k = 0; k < sky.length; k++) {
      const d = withDrone[k]! - sky[k]!;
      sum += d;
      mx += d * (k % 320);
      my += d * Math.floor(k / 320);
    }
    assert.ok(Math.abs(sum - expected.flux) < Math.abs(expected.flux) * 1e-3, `flux ${sum} vs ${expected.flux}`);
    const [u, v] = cam.model.project(p)!;
    assert.ok(Math.abs(mx / sum - u) < 0.01 && Math.abs(my / sum - v) < 0.01, 'centroid at the projection');
  });

  it('adds read and shot noise of the declared size', () => {
    const cam = camAt(256, 256, 1);
    const r = input(cam, []);
    const ideal = renderIdeal(r);
    const out = new Uint8Array(256 * 256);
    renderFrame(r, out);
    let [n, s2, mean] = [0, 0, 0];
    for (let k = 0; k < out.length; k++) {
      const d = out[k]! - ideal[k]!;
      s2 += d * d;
      mean += ideal[k]!;
      n++;
    }
    const expected = sensor.readNoiseDn ** 2 + mean / n / sensor.gainEPerDn + 1 / 12; // + quantization
    assert.ok(Math.abs(s2 / n / expected - 1) < 0.05, `noise variance ${s2 / n} vs ${expected}`);
  });

  it('the native pixel engine renders the same frames as this reference', async () => {
    const { NativeRenderer } = await import('../kernels/native.js');
    const { renderFrameWith } = await import('../sim/render.js');
    const engine = new NativeRenderer(2);
    for (const [w, h, bitDepth] of [[320, 240, 8], [257, 131, 12]] as const) {
      const cam = camAt(w, h, 3);
      const s = { ...sensor, bitDepth, skyDn: bitDepth > 8 ? 2600 : 170 };
      const scene = cameraScene(cam, 11, { clouds: 2, cloudContrast: 0.1, cloudSpeedPxS: 5, hotPixels: 3, deadPixels: 3 });
      const drone = { id: 'd', kind: 'drone' as const, sizeM: 1.5, clutter: false, track: new WaypointTrack([[0, 0.4, 1000, 100.3]]) };
      const bpp = bitDepth > 8 ? 2 : 1;
      const a = new Uint8Array(w * h * bpp);
      const b = new Uint8Array(w * h * bpp);
      const inp = () => ({ ...input(cam, [drone], 8), sensor: s, scene, glintRateHz: 5 });
      renderFrame(inp(), a);
      await renderFrameWith(engine, inp(), b);
      let differing = 0;
      for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) differing++;
      // Identical up to the last bit of exp() in two maths libraries: at most a handful of 1-DN steps.
      assert.ok(differing <= a.length * 1e-4, `${differing} bytes differ at ${w}×${h}, ${bitDepth} bit`);
    }
    await assert.rejects(async () => engine.render({ width: 4, height: 4, bitDepth: 8 } as never, new Float32Array(4), new Uint8Array(3)), /Expected 16 bytes for the frame but received 3/);
  });

  it('is deterministic for a seed and frame, and draws defects from the seed', () => {
    const cam = camAt();
    const scene = cameraScene(cam, 11, { clouds: 2, cloudContrast: 0.1, cloudSpeedPxS: 5, hotPixels: 3, deadPixels: 3 });
    const frame = (seed: number) => {
      const out = new Uint8Array(320 * 240);
      renderFrame({ ...input(cam, [], seed), scene }, out);
      return out;
    };
    assert.deepEqual(frame(5), frame(5));
    assert.notDeepEqual(frame(5), frame(6));
    const f = frame(5);
    for (const i of scene.hot) assert.equal(f[i], 255);
    for (const i of scene.dead) assert.equal(f[i], 0);
    assert.throws(() => renderFrame(input(cam, []), new Uint8Array(10)), /Expected 76800 bytes for a 320×240 frame but received 10/);
  });
});
