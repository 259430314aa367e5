import assert from 'node:assert/strict';
import { ResidualFloor } from '../actors/voxel/residual-floor.js';
import type { Scenario } from '../sim/scenario.js';
import { Rng } from '../sim/rng.js';
import { runOffline, squareRig } from './helpers/square-rig.js';

/** The pipeline offline, the floor learned or not (the turns never: what the floor alone does). */
const run = (s: Scenario, learn: boolean) => runOffline(s, { learn_floor: learn, learn_turn: false });

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
