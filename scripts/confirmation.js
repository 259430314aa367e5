#!/usr/bin/env node
// How much thermal confirmation cuts false alarms: a scenario's synthetic detections (detection
// mode, whatever the scenario's mode) fused per pair as the fusion actor fuses them, every mono
// detection counted by what made it — a target (drone, plane…), a bird, or nothing (pixel
// noise, a sun glint) — and by whether fusion confirmed it (source "both": a thermal detection
// in its gate). Birds are warm: the thermal camera sees them too, so confirmation cannot cut
// them; the voxel stage and the tracker must. Clouds exist only in pixel mode and are not
// counted here. One JSON line per kind, then a summary. A developer's tool (reads dist/: run
// `npm run build` first):
//   node scripts/confirmation.js SCENARIO [SECONDS]
import { binToF32 } from '../dist/bus/codec.js';
import { fuse } from '../dist/actors/fusion/fuse.js';
import { pairMapping } from '../dist/geometry/pair.js';
import { FUSED_SOURCE, FUSED_STRIDE } from '../dist/schemas/fused.js';
import { rigPairs } from '../dist/sim/rig.js';
import { loadScenario } from '../dist/sim/scenario.js';
import { Simulator } from '../dist/sim/simulator.js';

const [name, seconds] = process.argv.slice(2);
if (!name || (seconds !== undefined && !(Number(seconds) > 0))) {
  process.stderr.write('usage: node scripts/confirmation.js SCENARIO [SECONDS]\n');
  process.exit(2);
}
let scenario;
try {
  const base = loadScenario(name);
  scenario = { ...base, mode: 'detections', duration_s: seconds ? Math.min(base.duration_s, Number(seconds)) : base.duration_s };
} catch (err) {
  process.stderr.write(`confirmation: ${err.message}\n`);
  process.exit(2);
}
const sim = new Simulator(scenario, 1_000_000_000_000n);
const kindOf = new Map(sim.objects.map((o) => [o.id, o.kind]));
const pairs = rigPairs(sim.cameras).filter((p) => p.mono && p.thermal);
if (pairs.length === 0) {
  process.stderr.write(`confirmation: ${name} has no pair with both a mono and a thermal camera\n`);
  process.exit(2);
}
const mappings = new Map(pairs.map((p) => [p.name, pairMapping(p.mono.model, p.thermal.model)]));
/** kind → { mono detections, confirmed ones } */
const counts = new Map();
const count = (kind, confirmed) => {
  const c = counts.get(kind) ?? { detections: 0, confirmed: 0 };
  c.detections++;
  if (confirmed) c.confirmed++;
  counts.set(kind, c);
};
for (let k = 0; k < sim.frameCount; k++) {
  // Every camera draws its frame, in order (each has its own random stream).
  const frames = new Map(sim.cameras.map((c) => [c.id, sim.detections(c, k)]));
  for (const p of pairs) {
    const mono = frames.get(p.mono.id);
    if (!mono) continue;
    const thermal = frames.get(p.thermal.id);
    const fused = fuse(p.name, mono.frame, thermal?.frame, mappings.get(p.name));
    const f = binToF32(fused.blobs);
    for (let i = 0; i < mono.frame.count; i++) {
      const src = mono.sources[i];
      count(src === undefined ? 'false alarm' : (kindOf.get(src) ?? 'unknown'), f[i * FUSED_STRIDE + 10] === FUSED_SOURCE.both);
    }
  }
}
const share = (c) => (c.detections ? c.confirmed / c.detections : null);
for (const [kind, c] of [...counts].sort()) process.stdout.write(`${JSON.stringify({ kind, ...c, confirmed_share: share(c) })}\n`);
const targets = [...counts].filter(([k]) => k !== 'false alarm' && k !== 'bird').reduce((a, [, c]) => ({ detections: a.detections + c.detections, confirmed: a.confirmed + c.confirmed }), { detections: 0, confirmed: 0 });
const fa = counts.get('false alarm') ?? { detections: 0, confirmed: 0 };
process.stdout.write(`${JSON.stringify({ scenario: scenario.name, seconds: scenario.duration_s, pairs: pairs.length, targets_confirmed_share: share(targets), false_alarms_confirmed_share: share(fa), false_alarms_cut: fa.detections ? 1 - share(fa) : null })}\n`);
