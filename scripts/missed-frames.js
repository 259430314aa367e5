#!/usr/bin/env node
// What a scenario's tracks miss, and whether any camera saw it: runs the pipeline offline
// (fusion, voxel, tracker, as `skyvox process` does) on the scenario's own synthetic
// detections, then sorts every truth target-frame no confirmed track covers (within --near m)
// by whether the target had been covered before and by how many mono detections it had over
// the last three frames. A developer's tool (reads dist/: run `npm run build` first):
//   node scripts/missed-frames.js SCENARIO [SECONDS] [NEAR_M]
import { OfflinePipeline } from '../dist/actors/batch-worker/offline-pipeline.js';
import { loadScenario } from '../dist/sim/scenario.js';
import { Simulator } from '../dist/sim/simulator.js';

const [name = 'ring10', seconds = '20', nearM = '2'] = process.argv.slice(2);
const base = loadScenario(name);
const scenario = { ...base, mode: 'detections', duration_s: Math.min(base.duration_s, Number(seconds)) };
const sim = new Simulator(scenario, 1_000_000_000_000n);
const pipeline = new OfflinePipeline(scenario);
const monos = new Set(sim.cameras.filter((c) => c.band === 'mono').map((c) => c.id));
const frames = [];
const scans = [];
for (let k = 0; k < sim.frameCount; k++) {
  const seen = new Map();
  for (const cam of sim.cameras) {
    const out = sim.detections(cam, k);
    if (!out) continue;
    if (monos.has(cam.id)) for (const id of out.sources) if (id) seen.set(id, (seen.get(id) ?? 0) + 1);
    for (const s of await pipeline.push(out.frame)) scans.push(s.tracks);
  }
  frames.push({ truth: sim.truth(k), seen });
}
for (const s of await pipeline.finish()) scans.push(s.tracks);

const covered = new Set();
let total = 0;
let missed = 0;
let missedAfterCovered = 0;
const detectionsIn3Frames = {};
frames.forEach((f, i) => {
  // Scans come one per frameset, in frame order.
  const tracks = (scans[i] ?? scans.at(-1)).tracks.filter((t) => t.status !== 'tentative');
  for (const o of f.truth.objects) {
    if (o.clutter) continue;
    total++;
    if (tracks.some((t) => Math.hypot(t.position[0] - o.position[0], t.position[1] - o.position[1], t.position[2] - o.position[2]) < Number(nearM))) {
      covered.add(o.id);
      continue;
    }
    missed++;
    if (covered.has(o.id)) missedAfterCovered++;
    let n = 0;
    for (let j = Math.max(0, i - 2); j <= i; j++) n += frames[j].seen.get(o.id) ?? 0;
    const bin = n >= 3 ? '3+' : String(n);
    detectionsIn3Frames[bin] = (detectionsIn3Frames[bin] ?? 0) + 1;
  }
});
const share = (n) => Number((n / total).toFixed(4));
process.stdout.write(
  `${JSON.stringify({ scenario: scenario.name, seconds: scenario.duration_s, target_frames: total, missed: share(missed), missed_after_first_track: share(missedAfterCovered), missed_by_detections_in_last_3_frames: Object.fromEntries(Object.entries(detectionsIn3Frames).map(([k, v]) => [k, share(v)])) }, null, 2)}\n`,
);
