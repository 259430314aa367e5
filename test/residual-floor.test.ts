import assert from 'node:assert/strict';
import { ResidualFloor, VotedFloor } from '../actors/voxel/residual-floor.js';
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

  it('the voted points\' floor: the scale of the true ones among a majority of ghosts, none where they agree to their noise', () => {
    const rng = new Rng(5);
    // Two-view residuals: σ·|N(0,1)| for a true point, anywhere up to 60 px for a ghost.
    const fill = (sigma: number, trueShare: number) => {
      const f = new VotedFloor();
      for (let i = 0; i < 1024; i++) f.add((rng.uniform(0, 1) < trueShare ? sigma * rng.normal() : rng.uniform(0, 60)) ** 2, 0.003);
      return f;
    };
    // The floor that lets 95 % of σ = 3 px points' views through a χ² test of 16: 3.84·9/32 ≈ 1.08 px².
    for (const share of [0.3, 0.5, 0.8]) {
      const e = fill(3, share).excess(0.01, 16);
      assert.ok(Math.abs(e - 1.08) < 0.25, `σ 3 px, ${share} of true points: ${e} px²`);
    }
    for (const share of [0.1, 0.25, 0.9]) assert.equal(fill(0.05, share).excess(0.01, 16), 0, `a rig that agrees, ${share} true`);
    assert.equal(new VotedFloor().excess(0.01, 16), 0, 'nothing learnt yet');
  });

  it('a two-camera rig behind narrow lenses 0.05° off: the voted floor lets its points form and its turns be found; without it nearly none forms; a true rig is untouched', async function () {
    this.timeout(60_000);
    const twoCameras = (deg: number) => {
      const s = squareRig(deg, 44, 30);
      return { ...s, cameras: s.cameras.slice(0, 2) };
    };
    const from3s = (e: { t: number; m: number }[]) => e.filter((x) => x.t > 3);
    // Turns learnt as by default: the floor is what lets the first tracks, and so the turns, form.
    const learned = from3s((await runOffline(twoCameras(0.05), { learn_floor: true })).errors);
    const fixed = from3s((await runOffline(twoCameras(0.05), { learn_floor: false })).errors);
    assert.ok(learned.length > 900 && learned.every((x) => x.m < 1), `learned: ${learned.length} points from 3 s, ${learned.filter((x) => x.m >= 1).length} beyond 1 m`);
    assert.ok(fixed.length < 0.1 * learned.length, `fixed floor: ${fixed.length} points from 3 s`);
    const exact = twoCameras(0);
    assert.equal((await runOffline(exact, { learn_floor: true })).tracks, (await runOffline(exact, { learn_floor: false })).tracks, 'a calibrated rig: the same tracks, byte for byte');
  });
});
