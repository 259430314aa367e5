#!/usr/bin/env node
// Which scans came out late, and whether a full garbage collection was under way then. Reads
// the output of a run under V8's GC trace and the run's recorded tracks:
//   node --v8-pool-size=1 --max-semi-space-size=32 --trace-gc bin/skyvox.js up --scenario ring10 --record DIR > run.log 2>&1
//   node scripts/late-scans.js run.log DIR [LATE_MS]
// The "node up" line says when the process started (time_origin_ms); the trace's times are
// milliseconds since then. A late scan (published more than LATE_MS, default 50, after its
// exposure) counts as near a mark-compact when one ran from 150 ms before its exposure to
// 250 ms after. Prints JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const [logFile, dir, lateArg = '50'] = process.argv.slice(2);
if (!logFile || !dir) {
  process.stderr.write('usage: node scripts/late-scans.js RUN_LOG RECORD_DIR [LATE_MS]\n');
  process.exit(2);
}
const lateMs = Number(lateArg);
const log = readFileSync(logFile, 'utf8');
const origin = Number(/"time_origin_ms":([0-9.]+)/.exec(log)?.[1]);
if (!Number.isFinite(origin)) throw new Error(`${logFile}: no "node up" line with time_origin_ms`);
const compactions = [...log.matchAll(/\]\s+([0-9.]+) ms: Mark-Compact/g)].map((m) => origin + Number(m[1]));
const scans = readFileSync(join(dir, 'tracks.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => {
  const s = JSON.parse(l);
  return { t: Number(BigInt(s.t_ns) / 1000n) / 1000, latency: Number(BigInt(s.published_ns) - BigInt(s.t_ns)) / 1e6 };
});
const t0 = scans[0].t;
const end = scans.at(-1).t;
const sorted = scans.map((s) => s.latency).sort((a, b) => a - b);
const late = scans.filter((s) => s.latency > lateMs);
const afterStart = late.filter((s) => s.t - t0 >= 1000);
const nearCompaction = (s) => compactions.some((m) => m - s.t > -150 && m - s.t < 250);
const out = {
  scans: scans.length,
  latency_ms: { p50: sorted[Math.floor(0.5 * sorted.length)], p99: sorted[Math.floor(0.99 * sorted.length)] },
  late_ms: lateMs,
  late: late.length,
  late_in_first_second: late.length - afterStart.length,
  late_after_first_second: afterStart.length,
  of_those_near_a_mark_compact: afterStart.filter(nearCompaction).length,
  mark_compacts_during_run: compactions.filter((m) => m >= t0 && m <= end).length,
  late_scans: late.map((s) => ({ at_s: Number(((s.t - t0) / 1000).toFixed(2)), latency_ms: Number(s.latency.toFixed(1)), near_mark_compact: nearCompaction(s) })),
};
process.stdout.write(JSON.stringify(out, null, 2) + '\n');
