/** `skyvox eval --truth truth.jsonl --tracks tracks.jsonl`: tracking metrics as JSON. */
import { writeFileSync } from 'node:fs';
import { DEFAULT_EVAL_OPTIONS, type EvalReport, evaluate, type TrackScan, type TruthScan } from '../eval/metrics.js';
import { evaluateMot } from '../eval/motchallenge.js';
import { readJsonLines } from '../eval/read.js';
import { UsageError } from './errors.js';
import { scenarioScoring } from '../eval/observable.js';
import { loadScenario } from '../sim/scenario.js';

export interface EvalCliOptions {
  truth: string;
  tracks: string;
  format?: 'skyvox' | 'motchallenge';
  matchM?: number;
  out?: string;
  includeClutter?: boolean;
  /** The scenario (name or file) the run played: enables crlb_ratio. */
  scenario?: string;
  /** Score only the scans from this many seconds after the first truth scan (a run's steady state). */
  fromS?: number;
}

/** The scans from `fromS` seconds after the first truth scan on (all of them without it). */
function fromTime<T extends { t_ns: bigint }>(scans: T[], start: bigint | undefined, fromS: number | undefined): T[] {
  if (!fromS || start === undefined) return scans;
  const cut = start + BigInt(Math.round(fromS * 1e9));
  return scans.filter((s) => BigInt(s.t_ns) >= cut);
}

/** Prints (and optionally writes) the report; exit code 0. */
export function evalCommand(o: EvalCliOptions): number {
  if (o.format === 'motchallenge') {
    // Comma-separated lists pair up: --truth a/gt.txt,b/gt.txt --tracks a/test.txt,b/test.txt
    const gts = o.truth.split(',');
    const tests = o.tracks.split(',');
    if (gts.length !== tests.length) throw new UsageError(`Expected as many --tracks files as --truth files but received ${tests.length} and ${gts.length}`);
    const { matched_distances: _d, ...report } = evaluateMot(gts.map((gt, i) => ({ gt, test: tests[i]! })));
    const text = `${JSON.stringify(report, null, 2)}\n`;
    process.stdout.write(text);
    if (o.out) writeFileSync(o.out, text);
    return 0;
  }
  const truth = readJsonLines<TruthScan>(o.truth);
  const start = truth.length ? BigInt(truth[0]!.t_ns) : undefined;
  const report = evaluate(fromTime(truth, start, o.fromS), fromTime(readJsonLines<TrackScan>(o.tracks), start, o.fromS), {
    ...DEFAULT_EVAL_OPTIONS,
    matchM: o.matchM ?? DEFAULT_EVAL_OPTIONS.matchM,
    includeClutter: o.includeClutter ?? false,
    ...(o.scenario ? scenarioScoring(loadScenario(o.scenario)) : {}),
  });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  process.stdout.write(text);
  if (o.out) writeFileSync(o.out, text);
  return 0;
}

/** A report's headline figures on one line, for a run that wrote its report to a file. */
export function reportSummary(r: EvalReport, latency = true): string {
  const n = (x: number, d = 3) => x.toFixed(d);
  const seen = r.observable ? ` (observable ${Math.round(r.observable.share * 100)} %: MOTA ${n(r.observable.mota)})` : '';
  const steady = r.latency_ms?.steady ? ` (from ${r.latency_ms.steady.from_s} s on ${n(r.latency_ms.steady.p50, 1)} / ${n(r.latency_ms.steady.p99, 1)})` : '';
  const lat = latency && r.latency_ms ? `, latency p50 ${n(r.latency_ms.p50, 1)} / p99 ${n(r.latency_ms.p99, 1)} ms${steady}, ${r.latency_ms.over_50ms} scans over 50 ms` : '';
  return `MOTA ${n(r.mota)}${seen}, IDF1 ${n(r.idf1)}, ${r.id_switches} ID switches, detection rate ${n(r.detection_rate)}, false-track rate ${n(r.false_track_rate, 4)}, RMSE ${n(r.rmse_m * 100, 1)} cm${lat}`;
}
