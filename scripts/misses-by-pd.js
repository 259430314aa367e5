#!/usr/bin/env node
// Where a recorded run's misses are under the scenario's sensor model: every truth
// target-frame that no confirmed or coasting track covers (within NEAR_M) is counted by how
// many camera pairs had it in the image and by how many saw it with a detection probability of
// at least 0.1, 0.3 and 0.5; and each target's runs of uncovered frames by length. A
// developer's tool (reads dist/: run `npm run build` first; the recording from
// `skyvox up --scenario S --record DIR`):
//   node scripts/misses-by-pd.js DIR SCENARIO [NEAR_M]
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { rigOf, rigPairs } from '../dist/sim/rig.js';
import { BANDS, loadScenario } from '../dist/sim/scenario.js';
import { bandSensor, objectImage } from '../dist/sim/sensor.js';
import { detectionProbability } from '../dist/sim/detection-mode.js';

const [dir, name, nearArg = '2'] = process.argv.slice(2);
if (!dir || !name) {
  process.stderr.write('usage: node scripts/misses-by-pd.js RECORD_DIR SCENARIO [NEAR_M]\n');
  process.exit(2);
}
const nearM = Number(nearArg);
const scenario = loadScenario(name);
const sensors = Object.fromEntries(BANDS.map((b) => [b, bandSensor(scenario, b)]));
const pairs = rigPairs(rigOf(scenario)).map((p) => [p.mono, p.thermal].filter(Boolean));
const dist = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

/** Per pair: the better camera's detection probability, or -1 when neither has the object in its image. */
function pairPd(p, kind, size) {
  return pairs.map((cams) => Math.max(-1, ...cams.map((cam) => {
    const uv = cam.model.project(p);
    if (!uv || !cam.model.inImage(uv[0], uv[1], 1)) return -1;
    const s = sensors[cam.band];
    return detectionProbability(cam, s, kind, objectImage(kind, cam.band, s, size, dist(p, cam.model.center), cam.model.fx), uv);
  })));
}

async function eachLine(file, fn) {
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) if (line) fn(JSON.parse(line));
}

const truth = [];
await eachLine(join(dir, 'truth.jsonl'), (t) => truth.push(t));
const byPairs = {};
const runsOf = new Map();
let [frames, missed, fi] = [0, 0, 0];
await eachLine(join(dir, 'tracks.jsonl'), (scan) => {
  const t = BigInt(scan.t_ns);
  while (fi + 1 < truth.length && BigInt(truth[fi + 1].t_ns) <= t + 1_000_000n) fi++;
  const shown = scan.tracks.filter((x) => x.status !== 'tentative').map((x) => x.position);
  for (const o of truth[fi].objects) {
    if (o.clutter) continue;
    frames++;
    const covered = shown.some((q) => dist(q, o.position) < nearM);
    (runsOf.get(o.id) ?? runsOf.set(o.id, []).get(o.id)).push(!covered);
    if (covered) continue;
    missed++;
    const pd = pairPd(o.position, o.kind ?? 'drone', o.size_m ?? 0.5);
    const count = (min) => Math.min(3, pd.filter((x) => x >= min).length);
    const inImage = pd.filter((x) => x >= 0).length;
    const key = `in image ${inImage >= 4 ? '4+' : inImage} · Pd≥0.1 ${count(0.1)} · Pd≥0.3 ${count(0.3)} · Pd≥0.5 ${count(0.5)}`;
    byPairs[key] = (byPairs[key] ?? 0) + 1;
  }
});
const runs = {};
const bin = (n) => (n <= 3 ? '1-3' : n <= 10 ? '4-10' : n <= 30 ? '11-30' : n <= 100 ? '31-100' : n <= 600 ? '101-600' : '>600');
for (const flags of runsOf.values()) {
  let run = 0;
  for (const miss of [...flags, false]) {
    if (miss) run++;
    else if (run) {
      const b = (runs[bin(run)] ??= { runs: 0, frames: 0 });
      b.runs++;
      b.frames += run;
      run = 0;
    }
  }
}
const sorted = Object.fromEntries(Object.entries(byPairs).sort((a, b) => b[1] - a[1]));
process.stdout.write(`${JSON.stringify({ target_frames: frames, missed, by_pairs: sorted, uncovered_runs: runs }, null, 1)}\n`);
