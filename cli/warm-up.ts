/**
 * Before a scenario run starts its clock, the stages this process will run (fusion, voxel,
 * tracker) and the wire codec work for a moment on the scenario's own synthetic detections,
 * and the output is thrown away. V8 compiles a function only after it has run a while, so
 * without this a large run's first second meets interpreted code: ring10's first scans came
 * out 0.3–0.5 s late while everything compiled at once.
 */
import { decode, encode } from '../bus/codec.js';
import { OfflinePipeline, type OfflineOptions } from '../actors/batch-worker/offline-pipeline.js';
import { validate } from '../schemas/message.js';
import { DetectionFrame } from '../schemas/detections.js';
import { Tracks } from '../schemas/tracks.js';
import type { Scenario } from '../sim/scenario.js';
import { Simulator } from '../sim/simulator.js';

/** Runs the pipeline on up to `seconds` of the scenario's detections, within `budgetMs` of wall time. */
export async function warmUp(scenario: Scenario, options: OfflineOptions, seconds: number, budgetMs: number): Promise<{ frames: number; scans: number; ms: number }> {
  const start = performance.now();
  // Detection mode whatever the scenario's mode: the pixels' own path warms on its first frames.
  // Any time zero with room for the cameras' clock offsets before it.
  const sim = new Simulator({ ...scenario, mode: 'detections' }, 3_600_000_000_000n);
  const pipeline = new OfflinePipeline(sim.scenario, options);
  const frames = Math.min(sim.frameCount, Math.ceil(seconds * scenario.fps));
  let [k, scans] = [0, 0];
  for (; k < frames && performance.now() - start < budgetMs; k++) {
    for (const cam of sim.cameras) {
      const out = sim.detections(cam, k);
      if (!out) continue;
      const det = validate(DetectionFrame, decode(encode(out.frame)));
      for (const scan of await pipeline.push(det)) {
        validate(Tracks, decode(encode(scan.tracks)));
        scans++;
      }
    }
  }
  return { frames: k, scans, ms: performance.now() - start };
}
