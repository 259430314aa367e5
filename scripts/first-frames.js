#!/usr/bin/env node
// How late each stage's output of a run's first frames is: subscribes (as `admin`, from the
// data directory, retrying until the run's NATS server is up) to every camera's detections, every
// pair's fused detections, the measurements and the tracks, and prints for each of the first
// FRAMES frames and each subject the earliest and latest arrival after exposure (ms). Start it
// beside the run; it stops after WAIT_S seconds. A developer's tool (reads dist/: run
// `npm run build` first):
//   npx skyvox up --scenario ring10 --duration 4 & node scripts/first-frames.js [DATA_DIR] [FRAMES] [WAIT_S]
import { connectBus } from '../dist/bus/connection.js';
import { decode } from '../dist/bus/codec.js';
import { natsTarget } from '../dist/cli/nats-target.js';
import { subjectsFor } from '../dist/bus/subjects.js';
import { nowNs } from '../dist/supervisors/clock.js';

const [dataDir = '.skyvox', frames = '8', waitS = '15'] = process.argv.slice(2);
const deadline = Date.now() + Number(waitS) * 1000;
let nc;
let s;
while (!nc && Date.now() < deadline) {
  try {
    const t = natsTarget({ dataDir }, 'admin');
    nc = await connectBus({ servers: t.servers, user: t.user, pass: t.pass, name: 'first-frames' });
    s = subjectsFor(t.prefix);
  } catch {
    await new Promise((r) => setTimeout(r, 50));
  }
}
if (!nc) throw new Error(`no NATS server to be reached from ${dataDir} within ${waitS} s`);
// [kind, arrival (ns, skyvox's epoch clock: kept on the wall clock as the run's is), payload]
const arrivals = [];
for (const [kind, subject] of [['det', `${s.prefix}.det.>`], ['fused', s.fusedAll], ['meas', s.meas], ['tracks', s.tracks]]) {
  void (async () => {
    // Raw bytes now, decoded at the end: decoding as they come would add to the load measured.
    for await (const m of nc.subscribe(subject)) arrivals.push([kind, nowNs(), m.data.slice()]);
  })();
}
await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())));
const rows = arrivals.map(([kind, at, data]) => {
  const t = BigInt(decode(data).t_ns);
  return { kind, t, late: Number(at - t) / 1e6 };
});
if (rows.length === 0) throw new Error('nothing arrived: did the run start?');
const t0 = rows.reduce((a, r) => (r.t < a ? r.t : a), rows[0].t);
// The frame period: the median step between consecutive scans (cameras' clock offsets move a
// frame's messages by a few ms, so a frame is the period's multiple nearest their time).
const scans = [...new Set(rows.filter((r) => r.kind === 'tracks').map((r) => r.t))].sort((a, b) => (a < b ? -1 : 1));
const steps = scans.slice(1).map((t, i) => t - scans[i]).sort((a, b) => (a < b ? -1 : 1));
if (steps.length === 0) throw new Error('fewer than two scans arrived: did the run produce tracks?');
const period = steps[steps.length >> 1];
const table = new Map();
for (const r of rows) {
  const frame = Number((r.t - t0 + period / 2n) / period);
  if (frame >= Number(frames)) continue;
  const key = `${frame} ${r.kind}`;
  const [lo, hi, n] = table.get(key) ?? [Infinity, -Infinity, 0];
  table.set(key, [Math.min(lo, r.late), Math.max(hi, r.late), n + 1]);
}
const order = { det: 0, fused: 1, meas: 2, tracks: 3 };
for (const [key, [lo, hi, n]] of [...table].sort(([a], [b]) => parseInt(a) - parseInt(b) || order[a.split(' ')[1]] - order[b.split(' ')[1]])) {
  process.stdout.write(`frame ${key}: ${n} message(s), ${lo.toFixed(1)}–${hi.toFixed(1)} ms after exposure\n`);
}
await nc.close();
