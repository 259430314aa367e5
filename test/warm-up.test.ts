import assert from 'node:assert/strict';
import { warmUp } from '../cli/warm-up.js';
import { loadScenario } from '../sim/scenario.js';

describe('warm-up before a scenario run', function () {
  this.timeout(60_000);

  it('runs the stages on the scenario\'s own detections for the time asked, whatever its mode', async () => {
    const quick = loadScenario('quick'); // pixel mode: its detections are synthesised for the warm-up
    const w = await warmUp(quick, {}, 0.5, 30_000);
    assert.equal(w.frames, Math.ceil(0.5 * quick.fps));
    assert.ok(w.scans >= w.frames - 3, `scans ${w.scans} of ${w.frames} frames (the last wait for their frameset)`);
  });

  it('stops at its wall-time budget', async () => {
    const w = await warmUp(loadScenario('quick'), {}, 20, 1);
    assert.ok(w.frames < 20 * 25, `stopped after ${w.frames} frames`);
  });
});
