#!/usr/bin/env node
// What a cold start costs the voxel stage: runs the pipeline offline (fusion, voxel, tracker,
// as `skyvox process` does, each stage with its live defaults) on a scenario's first frames,
// ROUNDS times, each round with fresh stages as a node's start has. The first round also
// compiles the code; later rounds are what a warmed-up node meets at its scenario's time zero.
// Prints, per round, each frameset's voxel stage time (ms), its cast (native cast, peak search
// and the peaks' conversion), the rays that voted and the measurements out. A developer's tool
// (reads dist/: run `npm run build` first); `--options FILE` sets the stages as `up --options` does:
//   node scripts/cold-start.js SCENARIO [FRAMES] [ROUNDS] [--options FILE]
import { OfflinePipeline } from '../dist/actors/batch-worker/offline-pipeline.js';
import { stageOptions } from '../dist/cli/stage-options.js';
import { loadScenario } from '../dist/sim/scenario.js';
import { Simulator } from '../dist/sim/simulator.js';

const args = process.argv.slice(2);
const at = args.indexOf('--options');
const stages = stageOptions(at >= 0 ? args.splice(at, 2)[1] : undefined);
const [name = 'ring10', frames = '6', rounds = '4'] = args;
const scenario = { ...loadScenario(name), mode: 'detections' };
for (let round = 1; round <= Number(rounds); round++) {
  const sim = new Simulator(scenario, 1_000_000_000_000n);
  const pipeline = new OfflinePipeline(scenario, { fusion: stages.fusion, voxel: stages.voxel, tracker: stages.tracker });
  // The stage takes its grid's memory budget on a worker thread, as live before time zero.
  await pipeline.ready();
  const scans = [];
  for (let k = 0; k < Number(frames); k++) {
    for (const cam of sim.cameras) {
      const out = sim.detections(cam, k);
      if (out) scans.push(...(await pipeline.push(out.frame)));
    }
  }
  const row = scans.map((s) => `${s.voxel.ms.toFixed(1)} (cast ${s.voxel.cast_ms.toFixed(1)}, ${s.voxel.leftover_rays} rays, ${s.tracks.tracks.length} tracks)`);
  process.stdout.write(`round ${round}: ${row.join(' | ')}\n`);
}
