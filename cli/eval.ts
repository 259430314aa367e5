/** `skyvox eval --truth truth.jsonl --tracks tracks.jsonl`: tracking metrics as JSON. */
import { writeFileSync } from 'node:fs';
import { DEFAULT_EVAL_OPTIONS, evaluate, type TrackScan, type TruthScan } from '../eval/metrics.js';
import { evaluateMot } from '../eval/motchallenge.js';
import { readJsonLines } from '../eval/read.js';
import { UsageError } from './errors.js';
import { crlbFor } from '../eval/crlb.js';
import { observableFor } from '../eval/observable.js';
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
  const report = evaluate(readJsonLines<TruthScan>(o.truth), readJsonLines<TrackScan>(o.tracks), {
    ...DEFAULT_EVAL_OPTIONS,
    matchM: o.matchM ?? DEFAULT_EVAL_OPTIONS.matchM,
    includeClutter: o.includeClutter ?? false,
    bound: o.scenario ? crlbFor(loadScenario(o.scenario)) : undefined,
    observable: o.scenario ? observableFor(loadScenario(o.scenario)) : undefined,
  });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  process.stdout.write(text);
  if (o.out) writeFileSync(o.out, text);
  return 0;
}
