import assert from 'node:assert/strict';
import { binToF32 } from '../bus/codec.js';
import { MotionDetector } from '../kernels/native.js';
import { BLOB_STRIDE } from '../schemas/detections.js';
import { cameraScene, renderFrame } from '../sim/render.js';
import { Rng } from '../sim/rng.js';
import { parseScenario } from '../sim/scenario.js';
import { bandSensor, objectImage, pixelNoiseDn } from '../sim/sensor.js';
import { Simulator } from '../sim/simulator.js';

/** One camera, one drone crossing the view at `range` metres, 30 s at 10 fps. */
const crossing = (range: number) =>
  parseScenario({
    name: 'crossing',
    seed: 3,
    duration_s: 30,
    fps: 10,
    mode: 'pixel',
    site: { lat: 0, lon: 0, alt: 0 },
    cameras: [{ id: 'c', pair: 'p', band: 'mono', resolution: [320, 240], fov_deg: 10, position: [0, 0, 0], look_at: [0, 1000, 0] }],
    targets: [{ id: 'd', kind: 'drone', size_m: 0.5, waypoints: [[0, -20, range, -10], [30, 20, range, 10]] }],
  });

interface Stats {
  pd: number;
  rms: number;
  falsePerFrame: number;
}

/** Detection probability, centroid RMS per axis and false blobs per frame, in both modes. */
async function compare(range: number): Promise<{ pixel: Stats; detections: Stats; peakSnr: number }> {
  const scenario = crossing(range);
  const sim = new Simulator(scenario, 0n);
  const cam = sim.cameras[0]!;
  const sensor = bandSensor(scenario, 'mono');
  const scene = cameraScene(cam, scenario.seed, { clouds: 0, cloudContrast: 0, cloudSpeedPxS: 0, hotPixels: 0, deadPixels: 0 });
  const det = new MotionDetector(320, 240, 1, { threads: 1 });
  const px = new Uint8Array(320 * 240);
  const acc = { pixel: { hit: 0, n: 0, se: 0, fa: 0 }, detections: { hit: 0, n: 0, se: 0, fa: 0 } };
  const score = (a: typeof acc.pixel, blobs: [number, number][], uv: [number, number]) => {
    a.n++;
    let hit = false;
    for (const [x, y] of blobs) {
      const e = Math.hypot(x - uv[0], y - uv[1]);
      if (e < 1.5 && !hit) {
        hit = true;
        a.hit++;
        a.se += e * e;
      } else a.fa++;
    }
  };
  for (let k = 0; k < sim.frameCount; k++) {
    const t = k / scenario.fps;
    renderFrame({ cam, sensor, scene, objects: sim.objects, t, rng: Rng.derive(scenario.seed, `frame/${k}`), glintRateHz: 0, fps: scenario.fps }, px);
    const out = await det.process(px);
    const synthetic = sim.detections(cam, k)!;
    const uv = cam.model.project(sim.objects[0]!.track.position(t))!;
    if (out.warmingUp || k < 20 || !cam.model.inImage(uv[0], uv[1], 3)) continue;
    score(acc.pixel, out.blobs.map((b) => [b.x, b.y]), uv);
    const f = binToF32(synthetic.frame.blobs);
    score(acc.detections, Array.from({ length: synthetic.frame.count }, (_, i) => [f[i * BLOB_STRIDE]!, f[i * BLOB_STRIDE + 1]!]), uv);
  }
  const stats = (a: typeof acc.pixel): Stats => ({ pd: a.hit / a.n, rms: Math.sqrt(a.se / Math.max(1, a.hit) / 2), falsePerFrame: a.fa / a.n });
  const img = objectImage('drone', 'mono', sensor, 0.5, range, cam.model.fx);
  return { pixel: stats(acc.pixel), detections: stats(acc.detections), peakSnr: Math.abs(img.peak) / pixelNoiseDn(sensor) };
}

describe('detection mode against pixel mode on the same scenes', function () {
  this.timeout(120_000);

  it('a clearly visible target: both detect it every frame, with centroid errors alike', async () => {
    const r = await compare(400);
    assert.ok(r.peakSnr > 10, `peak SNR ${r.peakSnr}`);
    assert.ok(r.pixel.pd > 0.97 && r.detections.pd > 0.97, `Pd pixel ${r.pixel.pd}, detections ${r.detections.pd}`);
    assert.ok(r.detections.rms / r.pixel.rms > 0.6 && r.detections.rms / r.pixel.rms < 1.6, `centroid RMS pixel ${r.pixel.rms}, detections ${r.detections.rms}`);
    assert.ok(r.pixel.falsePerFrame < 0.02 && r.detections.falsePerFrame < 0.02);
  });

  it('a target at the edge of detection: both detect it about as often', async () => {
    const r = await compare(550);
    assert.ok(r.pixel.pd > 0.2 && r.pixel.pd < 0.9, `pick a range where detection is uncertain (pixel Pd ${r.pixel.pd})`);
    assert.ok(Math.abs(r.pixel.pd - r.detections.pd) < 0.15, `Pd pixel ${r.pixel.pd}, detections ${r.detections.pd}`);
    assert.ok(r.detections.rms / r.pixel.rms > 0.6 && r.detections.rms / r.pixel.rms < 1.6, `centroid RMS pixel ${r.pixel.rms}, detections ${r.detections.rms}`);
  });
});
