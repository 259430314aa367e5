#!/usr/bin/env node
// A scenario's tracks without a live run: the pipeline offline (fusion, voxel, tracker, as
// `skyvox process` does, the same framesets and the same tracks a live run that keeps up
// gives) on the scenario's own synthetic detections, written as a recording `skyvox eval`
// scores — DIR/truth.jsonl, DIR/tracks.jsonl and DIR/meas.jsonl (the voxel stage's points) —
// in seconds instead of the scenario's length, and the same every time: for comparing a
// setting's effect across scenarios. It also prints how far each pair's view camera points off
// its true pointing, as written and after the turn the voxel stage learnt (`pointing_error`). A developer's tool (reads dist/: run `npm run build` first):
//   node scripts/offline-eval.js SCENARIO DIR [SECONDS] [--options FILE]
//   npx skyvox eval --truth DIR/truth.jsonl --tracks DIR/tracks.jsonl --scenario SCENARIO
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { once } from 'node:events';
import { OfflinePipeline } from '../dist/actors/batch-worker/offline-pipeline.js';
import { stageOptions } from '../dist/cli/stage-options.js';
import { loadScenario } from '../dist/sim/scenario.js';
import { Simulator } from '../dist/sim/simulator.js';
import { rigOf, rigPairs, trueRigOf } from '../dist/sim/rig.js';

const args = process.argv.slice(2);
const at = args.indexOf('--options');
const optionsFile = at >= 0 ? args.splice(at, 2)[1] : undefined;
const [name, dir, seconds] = args;
if (!name || !dir) {
  process.stderr.write('usage: node scripts/offline-eval.js SCENARIO DIR [SECONDS] [--options FILE]\n');
  process.exit(2);
}
let base;
let stages;
try {
  base = loadScenario(name);
  stages = stageOptions(optionsFile);
} catch (err) {
  process.stderr.write(`offline-eval: ${err.message}\n`);
  process.exit(2);
}
const scenario = { ...base, mode: 'detections', duration_s: seconds ? Math.min(base.duration_s, Number(seconds)) : base.duration_s };
mkdirSync(dir, { recursive: true });
const line = (v) => `${JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x))}\n`;
const files = { truth: createWriteStream(join(dir, 'truth.jsonl')), tracks: createWriteStream(join(dir, 'tracks.jsonl')), meas: createWriteStream(join(dir, 'meas.jsonl')) };
// The pipeline hands each stage's message on through this: the measurements are kept.
const relay = (type, value) => {
  if (type.name === 'Measurements') files.meas.write(line(value));
  return value;
};
const sim = new Simulator(scenario, 1_000_000_000_000n);
const pipeline = new OfflinePipeline(scenario, { fusion: stages.fusion, voxel: stages.voxel, tracker: stages.tracker }, relay);
await pipeline.ready();
const started = performance.now();
let voxelMs = 0;
let scans = 0;
const take = (outs) => {
  for (const s of outs) {
    files.tracks.write(line(s.tracks));
    voxelMs += s.voxel.ms;
    scans++;
  }
};
for (let k = 0; k < sim.frameCount; k++) {
  for (const cam of sim.cameras) {
    const out = sim.detections(cam, k);
    if (out) take(await pipeline.push(out.frame));
  }
  files.truth.write(line(sim.truth(k)));
}
take(await pipeline.finish());
for (const f of Object.values(files)) {
  f.end();
  await once(f, 'finish');
}
// Each pair's view camera: how far off its true pointing it stood as written, and after the turn the stage learnt (degrees).
const angleDeg = (a, b) => {
  let tr = 0;
  for (let i = 0; i < 9; i++) tr += a.R[i] * b.R[i];
  return (Math.acos(Math.min(1, (tr - 1) / 2)) * 180) / Math.PI;
};
const truth = new Map(rigPairs(trueRigOf(scenario)).map((p) => [p.name, p.view.model]));
const learnt = new Map(pipeline.learnedTurns().map((l) => [l.pair, l.turn_rad]));
const pointing = Object.fromEntries(
  rigPairs(rigOf(scenario)).map((p) => {
    const written = p.view.model;
    const turn = learnt.get(p.name);
    return [p.name, { written_deg: +angleDeg(written, truth.get(p.name)).toFixed(4), learnt_deg: +angleDeg(turn ? written.turned(turn) : written, truth.get(p.name)).toFixed(4) }];
  }),
);
process.stdout.write(`${JSON.stringify({ scenario: name, frames: sim.frameCount, scans, wall_ms: Math.round(performance.now() - started), voxel_ms: Math.round(voxelMs), pointing_error: pointing })}\n`);
