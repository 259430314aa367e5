import assert from 'node:assert/strict';
import { OfflinePipeline } from '../actors/batch-worker/offline-pipeline.js';
import { warmUp, warmUpSources } from '../cli/warm-up.js';
import { loadScenario } from '../sim/scenario.js';
import { Simulator } from '../sim/simulator.js';

describe('warm-up before a scenario run', function () {
  this.timeout(60_000);

  it('runs the stages on the scenario\'s own detections for the time asked, then its start again, whatever its mode', async () => {
    const quick = loadScenario('quick'); // pixel mode: its detections are synthesised for the warm-up
    const w = await warmUp(quick, {}, 0.5, 30_000);
    assert.equal(w.frames, Math.ceil(0.5 * quick.fps) + Math.ceil(0.25 * quick.fps), 'the time asked, then half of it from the start');
    assert.ok(w.scans >= w.frames - 3, `scans ${w.scans} of ${w.frames} frames (the last wait for their frameset)`);
  });

  it('stops at its wall-time budget', async () => {
    const w = await warmUp(loadScenario('quick'), {}, 20, 1);
    assert.ok(w.frames < 20 * 25, `stopped after ${w.frames} frames`);
  });

  it('a sources-only process plays its detection-mode scenario for the time asked (a pixel-mode one has no detections to make), within its budget', async () => {
    const ring10 = loadScenario('ring10');
    assert.equal((await warmUpSources(ring10, 0.5, 30_000)).frames, Math.ceil(0.5 * ring10.fps));
    assert.equal((await warmUpSources(loadScenario('quick'), 0.5, 30_000)).frames, 0);
    const cut = await warmUpSources(ring10, 20, 1);
    assert.ok(cut.frames < 20 * ring10.fps, `stopped after ${cut.frames} frames`);
  });

  it('a start whose first tracks come late (as the warm-up\'s second round plays it) births the same tracks, without doubles', async () => {
    const ring10 = loadScenario('ring10');
    const run = async (lateScans: number) => {
      const sim = new Simulator(ring10, 0n);
      const pipeline = new OfflinePipeline(ring10, {}, undefined, lateScans);
      let last: { status: string; position: [number, number, number] }[] = [];
      for (let k = 0; k < 20; k++) for (const cam of sim.cameras) for (const scan of await pipeline.push(sim.detections(cam, k)!.frame)) last = scan.tracks.tracks;
      return last.filter((t) => t.status === 'confirmed');
    };
    const [onTime, late] = [await run(0), await run(5)];
    assert.ok(onTime.length > 150, `${onTime.length} confirmed tracks`);
    // Meanwhile the voxel stage associates each frameset from the last one's points: every
    // object is still measured once, so the same tracks confirm and none twice.
    assert.ok(Math.abs(late.length - onTime.length) <= onTime.length * 0.02, `${late.length} confirmed with late tracks, ${onTime.length} without`);
    const doubles = late.filter((t, i) => late.some((u, j) => j < i && Math.hypot(t.position[0] - u.position[0], t.position[1] - u.position[1], t.position[2] - u.position[2]) < 1));
    assert.equal(doubles.length, 0, 'no object tracked twice');
  });
});
