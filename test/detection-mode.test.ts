import assert from 'node:assert/strict';
import { binToF32 } from '../bus/codec.js';
import { BLOB_STRIDE } from '../schemas/detections.js';
import { parseScenario } from '../sim/scenario.js';
import { bandSensor, objectImage, pixelNoiseDn } from '../sim/sensor.js';
import { Simulator } from '../sim/simulator.js';
import { detectionProbability, noiseFalseAlarmRate } from '../sim/detection-mode.js';

/** One mono camera staring at one hovering drone at `range` metres. */
function staring(range: number, extra: Record<string, unknown> = {}) {
  return parseScenario({
    name: 'stare',
    seed: 3,
    duration_s: 400,
    fps: 10,
    mode: 'detections',
    site: { lat: 0, lon: 0, alt: 0 },
    cameras: [{ id: 'c', pair: 'p', band: 'mono', resolution: [640, 480], fov_deg: 20, position: [0, 0, 0], look_at: [0, 1000, 0], ...extra }],
    targets: [{ id: 'd', kind: 'drone', size_m: 0.5, waypoints: [[0, 3.3, range, 2.1]] }],
  });
}

/** The range at which the drone's peak SNR equals `snr` (bisection on the shared model). */
function rangeForSnr(snr: number): number {
  const scenario = staring(1000);
  const sensor = bandSensor(scenario, 'mono');
  const f = new Simulator(scenario, 0n).cameras[0]!.model.fx;
  let [lo, hi] = [10, 100_000];
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    const peakSnr = Math.abs(objectImage('drone', 'mono', sensor, 0.5, mid, f).peak) / pixelNoiseDn(sensor);
    if (peakSnr > snr) lo = mid;
    else hi = mid;
  }
  return lo;
}

describe('detection mode', () => {
  it('centroid errors follow the covariance it reports', () => {
    const range = rangeForSnr(12);
    const sim = new Simulator(staring(range), 0n);
    const cam = sim.cameras[0]!;
    const truthUv = cam.model.project([3.3, range, 2.1])!;
    const zs: number[] = [];
    for (let k = 0; k < sim.frameCount; k++) {
      const out = sim.detections(cam, k)!;
      const blobs = binToF32(out.frame.blobs);
      const i = out.sources.indexOf('d');
      if (i < 0) continue;
      const [x, y, vx, vy] = [blobs[i * BLOB_STRIDE]!, blobs[i * BLOB_STRIDE + 1]!, blobs[i * BLOB_STRIDE + 2]!, blobs[i * BLOB_STRIDE + 3]!];
      zs.push((x - truthUv[0]) / Math.sqrt(vx), (y - truthUv[1]) / Math.sqrt(vy));
    }
    assert.ok(zs.length > 3000);
    const mean = zs.reduce((a, b) => a + b, 0) / zs.length;
    const variance = zs.reduce((a, b) => a + (b - mean) ** 2, 0) / zs.length;
    assert.ok(Math.abs(mean) < 0.1, `normalised error mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.12, `normalised error variance ${variance}`);
  });

  it('detects with the probability its SNR and threshold imply, falling with range', () => {
    const range = rangeForSnr(5.2);
    const scenario = staring(range);
    const sim = new Simulator(scenario, 0n);
    const cam = sim.cameras[0]!;
    const sensor = bandSensor(scenario, 'mono');
    const img = objectImage('drone', 'mono', sensor, 0.5, Math.hypot(3.3, range, 2.1), cam.model.fx);
    const pd = detectionProbability(cam, sensor, 'drone', img, cam.model.project([3.3, range, 2.1])!);
    assert.ok(pd > 0.05 && pd < 0.95, `pick a range where detection is uncertain (pd=${pd})`);
    let hits = 0;
    for (let k = 0; k < sim.frameCount; k++) if (sim.detections(cam, k)!.sources.includes('d')) hits++;
    const sd = Math.sqrt((pd * (1 - pd)) / sim.frameCount);
    assert.ok(Math.abs(hits / sim.frameCount - pd) < 4 * sd, `detected ${hits}/${sim.frameCount}, expected ${pd}`);
    const near = new Simulator(staring(rangeForSnr(7)), 0n);
    let nearHits = 0;
    for (let k = 0; k < 200; k++) if (near.detections(near.cameras[0]!, k)!.sources.includes('d')) nearHits++;
    assert.ok(nearHits / 200 > hits / sim.frameCount);
  });

  it('raises noise false alarms at the threshold tail rate, and drops frames at drop_rate', () => {
    const sim = new Simulator(staring(100_000, { drop_rate: 0.1, resolution: [4096, 3000] }), 0n);
    const cam = sim.cameras[0]!;
    let frames = 0;
    let alarms = 0;
    for (let k = 0; k < sim.frameCount; k++) {
      const out = sim.detections(cam, k);
      if (!out) continue;
      frames++;
      alarms += out.sources.filter((s) => s === undefined).length;
    }
    const dropFrac = 1 - frames / sim.frameCount;
    assert.ok(Math.abs(dropFrac - 0.1) < 4 * Math.sqrt(0.09 / sim.frameCount), `dropped ${dropFrac}`);
    const expected = noiseFalseAlarmRate(cam, bandSensor(sim.scenario, 'mono'));
    assert.ok(expected > 0.05, `enough false alarms to test (${expected} per frame)`);
    const perFrame = alarms / frames;
    assert.ok(Math.abs(perFrame - expected) < 4 * Math.sqrt(expected / frames), `${perFrame} false alarms per frame, expected ${expected}`);
  });

  it('is deterministic for a seed', () => {
    const a = new Simulator(staring(900), 0n);
    const b = new Simulator(staring(900), 0n);
    for (let k = 0; k < 50; k++) assert.deepEqual(a.detections(a.cameras[0]!, k), b.detections(b.cameras[0]!, k));
  });
});
