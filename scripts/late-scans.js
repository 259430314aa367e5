#!/usr/bin/env node
// Which scans came out late, and what was going on then: a full garbage collection in the
// pipeline's process (from a run under V8's GC trace), or a gap in which a CPU did not run at
// all (from scripts/stall-probe.js run beside it). Reads the run's recorded tracks:
//   node --v8-pool-size=1 --max-semi-space-size=32 --trace-gc bin/skyvox.js up --scenario ring10 --record DIR > run.log 2>&1
//   node scripts/late-scans.js DIR [--gc-log run.log] [--stalls stalls.jsonl] [--late-ms 50] [--stall-ms 4]
// The "node up" line of the GC log says when the process started (time_origin_ms); the trace's
// times are milliseconds since then. A late scan (published more than --late-ms after its
// exposure) counts as near a mark-compact when one ran from 150 ms before its exposure to 250 ms
// after, and as near a stall when a probe woke --stall-ms or more late between 50 ms before its
// exposure and its publication. So that a stall's share among late scans means something, the
// same share is given for the scans on time (after the first second, which is the cold start's).
// Prints JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'gc-log': { type: 'string' },
    stalls: { type: 'string', multiple: true, default: [] },
    'late-ms': { type: 'string', default: '50' },
    'stall-ms': { type: 'string', default: '4' },
  },
});
const dir = positionals[0];
const lateMs = Number(values['late-ms']);
const stallMs = Number(values['stall-ms']);
if (!dir || positionals.length > 1 || !(lateMs > 0) || !(stallMs > 0)) {
  process.stderr.write('usage: node scripts/late-scans.js RECORD_DIR [--gc-log RUN_LOG] [--stalls FILE]... [--late-ms 50] [--stall-ms 4]\n');
  process.exit(2);
}

let compactions;
if (values['gc-log']) {
  const log = readFileSync(values['gc-log'], 'utf8');
  const origin = Number(/"time_origin_ms":([0-9.]+)/.exec(log)?.[1]);
  if (!Number.isFinite(origin)) throw new Error(`${values['gc-log']}: no "node up" line with time_origin_ms`);
  compactions = [...log.matchAll(/\]\s+([0-9.]+) ms: Mark-Compact/g)].map((m) => origin + Number(m[1]));
}
const stalls = values.stalls.length
  ? values.stalls.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))).filter((s) => s.late_ms >= stallMs)
  : undefined;

const scans = readFileSync(join(dir, 'tracks.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => {
  const s = JSON.parse(l);
  return { t: Number(BigInt(s.t_ns) / 1000n) / 1000, latency: Number(BigInt(s.published_ns) - BigInt(s.t_ns)) / 1e6 };
});
const t0 = scans[0].t;
const end = scans.at(-1).t;
const sorted = scans.map((s) => s.latency).sort((a, b) => a - b);
const late = scans.filter((s) => s.latency > lateMs);
const afterStart = late.filter((s) => s.t - t0 >= 1000);
const onTime = scans.filter((s) => s.t - t0 >= 1000 && s.latency <= lateMs);
const nearCompaction = (s) => compactions.some((m) => m - s.t > -150 && m - s.t < 250);
const nearStall = (s) => stalls.some((x) => x.at_ms >= s.t - 50 && x.at_ms <= s.t + s.latency);
const out = {
  scans: scans.length,
  latency_ms: { p50: sorted[Math.floor(0.5 * sorted.length)], p99: sorted[Math.floor(0.99 * sorted.length)] },
  late_ms: lateMs,
  late: late.length,
  late_in_first_second: late.length - afterStart.length,
  late_after_first_second: afterStart.length,
  ...(compactions && {
    of_those_near_a_mark_compact: afterStart.filter(nearCompaction).length,
    mark_compacts_during_run: compactions.filter((m) => m >= t0 && m <= end).length,
  }),
  ...(stalls && {
    stall_ms: stallMs,
    of_those_near_a_stall: afterStart.filter(nearStall).length,
    on_time_after_first_second: onTime.length,
    of_those_near_a_stall_on_time: onTime.filter(nearStall).length,
    stalls_during_run: stalls.filter((x) => x.at_ms >= t0 && x.at_ms <= end + 1000).length,
  }),
  late_scans: late.map((s) => ({
    at_s: Number(((s.t - t0) / 1000).toFixed(2)),
    latency_ms: Number(s.latency.toFixed(1)),
    ...(compactions && { near_mark_compact: nearCompaction(s) }),
    ...(stalls && { near_stall: nearStall(s) }),
  })),
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
