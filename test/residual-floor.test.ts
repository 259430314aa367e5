import assert from 'node:assert/strict';
import { OfflinePipeline } from '../actors/batch-worker/offline-pipeline.js';
import { ResidualFloor } from '../actors/voxel/residual-floor.js';
import { binToF64 } from '../bus/codec.js';
import { MEAS_STRIDE } from '../schemas/measurement.js';
import { parseScenario, type Scenario } from '../sim/scenario.js';
import { Rng } from '../sim/rng.js';
import { Simulator } from '../sim/simulator.js';

/** Four mono cameras on a 600 m square watching 16 drones, each camera `deg` off its calibration (rms per axis). */
function squareRig(deg: number): Scenario {
  const at = (id: string, x: number, y: number) => ({ id, pair: id, band: 'mono', resolution: [1920, 1080], fov_deg: 60, position: [x, y, 2], look_at: [0, 0, 120], calibration_error: { rotation_deg: deg } });
  return parseScenario({
    name: 'square', seed: 44, duration_s: 6, fps: 30, mode: 'detections', site: { lat: 47, lon: 8, alt: 400 },
    cameras: [at('a', -300, -300), at('b', 300, -300), at('c', 300, 300), at('d', -300, 300)],
    targets: [{ generate: 'swarm', id_prefix: 's', count: 16, kind: 'drone', size_m: [0.5, 0.9], box: [[-150, -150, 60], [150, 150, 200]], speed_mps: [5, 15] }],
  });
}

/** The voxel stage's points (their view counts) and the tracks, the pipeline run offline. */
async function run(s: Scenario, learn: boolean): Promise<{ views: number[]; tracks: string }> {
  const views: number[] = [];
  const pipeline = new OfflinePipeline(s, { voxel: { learn_floor: learn } }, (type, value) => {
    if (type.name === 'Measurements') {
      const m = value as { count: number; points: Uint8Array };
      const v = binToF64(m.points);
      for (let i = 0; i < m.count; i++) views.push(v[i * MEAS_STRIDE + 13]!);
    }
    return value;
  });
  await pipeline.ready();
  const sim = new Simulator(s, 0n);
  const tracks: unknown[] = [];
  for (let k = 0; k < sim.frameCount; k++) {
    for (const cam of sim.cameras) {
      const out = sim.detections(cam, k);
      if (out) for (const scan of await pipeline.push(out.frame)) tracks.push(scan.tracks);
    }
  }
  for (const scan of await pipeline.finish()) tracks.push(scan.tracks);
  return { views, tracks: JSON.stringify(tracks, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x)) };
}

describe('learned pixel floors', () => {
  it('learns a camera\'s variance beyond its detections\' own from residuals, 0 when there is none, unmoved by a tenth of wrong matches', () => {
    const rng = new Rng(3);
    const floor = new ResidualFloor(3);
    for (let i = 0; i < 4096; i++) {
      const views = 4;
      const shrink = 1 - 3 / (2 * views);
      // Camera 0: detections' own variance 0.04 px² a axis and nothing else; camera 1: 0.3 px² more.
      const own = 0.04;
      const r0 = shrink * own * (rng.normal() ** 2 + rng.normal() ** 2);
      const r1 = shrink * (own + 0.3) * (rng.normal() ** 2 + rng.normal() ** 2);
      floor.add(0, r0, 2 * own, views);
      floor.add(1, i % 10 === 0 ? 400 : r1, 2 * own, views);
      floor.add(2, r1, 2 * own, 2);
    }
    assert.ok(floor.excess(0) < 0.01, `camera 0: ${floor.excess(0)}`);
    assert.ok(Math.abs(floor.excess(1) - 0.3) < 0.1, `camera 1: ${floor.excess(1)}`);
    assert.equal(floor.excess(2), 0, 'a point of two views teaches nothing');
    // What is reported: camera 1's floor once (not camera 0's, at the configured floor), then nothing until it moves twofold.
    assert.deepEqual(floor.changes(0.01).map((c) => c.camera), [1]);
    assert.deepEqual(floor.changes(0.01), []);
    const fresh = new ResidualFloor(1);
    for (let i = 0; i < 100; i++) fresh.add(0, 100, 0.1, 4);
    assert.equal(fresh.excess(0), 0, 'nothing until enough views');
  });

  it('cameras a fraction of a degree off their calibration keep every view of a drone in one point; without it none does; a true rig is untouched', async function () {
    this.timeout(60_000);
    const off = squareRig(0.03);
    const share4 = (v: number[]) => v.filter((x) => x === 4).length / v.length;
    const learned = await run(off, true);
    const fixed = await run(off, false);
    assert.ok(share4(learned.views) > 0.8, `learned: ${share4(learned.views)} of points with 4 views`);
    assert.ok(share4(fixed.views) < 0.1, `fixed floor: ${share4(fixed.views)} of points with 4 views`);
    const exact = squareRig(0);
    assert.equal((await run(exact, true)).tracks, (await run(exact, false)).tracks, 'a calibrated rig: the same tracks, byte for byte');
  });
});
