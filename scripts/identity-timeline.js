#!/usr/bin/env node
// Which track had each target when, and whether the rig could see it then: for every truth
// target of a recorded run, the runs of scans in which the nearest confirmed or coasting track
// (within --near-m) had one identity, or none; and per --bin-s of the run, the share of the
// target's frames that at least two camera pairs saw with a detection probability of 0.5 (the
// evaluation's "observable") and of 0.1. An identity lost and found again shows as two track
// ids with a gap; the shares say whether the gap was the tracker's or the sky's. A developer's
// tool (reads dist/: run `npm run build` first; the recording from
// `skyvox up --scenario S --record DIR`):
//   node scripts/identity-timeline.js DIR SCENARIO [--target ID]... [--near-m 2] [--bin-s 0.5]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pairsSeeingFor } from '../dist/eval/observable.js';
import { loadScenario } from '../dist/sim/scenario.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { target: { type: 'string', multiple: true, default: [] }, 'near-m': { type: 'string', default: '2' }, 'bin-s': { type: 'string', default: '0.5' } },
});
const [dir, name] = positionals;
const nearM = Number(values['near-m']);
const binS = Number(values['bin-s']);
if (!dir || !name || positionals.length > 2 || !(nearM > 0) || !(binS > 0)) {
  process.stderr.write('usage: node scripts/identity-timeline.js RECORD_DIR SCENARIO [--target ID]... [--near-m 2] [--bin-s 0.5]\n');
  process.exit(2);
}
const scenario = loadScenario(name);
const seeing = [pairsSeeingFor(scenario, 0.5), pairsSeeingFor(scenario, 0.1)];
// Times as BigInt nanoseconds: the recorder writes them as integers past 2^53.
const readLines = (file) => readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l.replace(/"(t_ns|published_ns|epoch)":(\d+)/g, '"$1":"$2"')));
const truth = readLines('truth.jsonl');
const tracks = readLines('tracks.jsonl');
const t0 = BigInt(truth[0].t_ns);
const seconds = (t) => Number(BigInt(t) - t0) / 1e9;
const truthTimes = truth.map((s) => seconds(s.t_ns));
const wanted = (o) => !o.clutter && (values.target.length === 0 || values.target.includes(o.id));

/** The truth frame nearest to time t (s). */
function nearestFrame(t) {
  let lo = 0;
  let hi = truthTimes.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (truthTimes[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && t - truthTimes[lo - 1] < truthTimes[lo] - t ? lo - 1 : lo;
}

const runs = new Map();
for (const scan of tracks) {
  const t = seconds(scan.t_ns);
  const confirmed = scan.tracks.filter((k) => k.status !== 'tentative');
  for (const o of truth[nearestFrame(t)].objects.filter(wanted)) {
    let id = '-';
    let best = nearM;
    for (const k of confirmed) {
      const d = Math.hypot(k.position[0] - o.position[0], k.position[1] - o.position[1], k.position[2] - o.position[2]);
      if (d < best) [best, id] = [d, k.id];
    }
    const list = runs.get(o.id) ?? runs.set(o.id, []).get(o.id);
    const last = list.at(-1);
    if (last && last.id === id) last.to = t;
    else list.push({ id, from: t, to: t });
  }
}
const seen = new Map();
for (const [i, frame] of truth.entries()) {
  for (const o of frame.objects.filter(wanted)) {
    const bins = seen.get(o.id) ?? seen.set(o.id, []).get(o.id);
    const b = (bins[Math.floor(truthTimes[i] / binS)] ??= [0, 0, 0]);
    b[0]++;
    seeing.forEach((s, k) => (b[k + 1] += s(o.position, o.kind ?? 'drone', o.size_m ?? 0.5, 2) >= 2 ? 1 : 0));
  }
}
for (const [id, list] of runs) {
  process.stdout.write(`${id} tracks: ${list.map((r) => `${r.id} ${r.from.toFixed(2)}–${r.to.toFixed(2)} s`).join(', ')}\n`);
  const bins = seen.get(id) ?? [];
  process.stdout.write(`${id} seen by 2 pairs at Pd 0.5/0.1, per ${binS} s from 0: ${[...bins].map((b) => (b ? `${(b[1] / b[0]).toFixed(1)}/${(b[2] / b[0]).toFixed(1)}` : '-')).join(' ')}\n`);
}
