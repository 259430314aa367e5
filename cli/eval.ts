/** `skyvox eval --truth truth.jsonl --tracks tracks.jsonl`: tracking metrics as JSON. */
import { writeFileSync } from 'node:fs';
import { DEFAULT_EVAL_OPTIONS, evaluate, type TrackScan, type TruthScan } from '../eval/metrics.js';
import { readJsonLines } from '../eval/read.js';

export interface EvalCliOptions {
  truth: string;
  tracks: string;
  matchM?: number;
  out?: string;
  includeClutter?: boolean;
}

/** Prints (and optionally writes) the report; exit code 0. */
export function evalCommand(o: EvalCliOptions): number {
  const report = evaluate(readJsonLines<TruthScan>(o.truth), readJsonLines<TrackScan>(o.tracks), {
    ...DEFAULT_EVAL_OPTIONS,
    matchM: o.matchM ?? DEFAULT_EVAL_OPTIONS.matchM,
    includeClutter: o.includeClutter ?? false,
  });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  process.stdout.write(text);
  if (o.out) writeFileSync(o.out, text);
  return 0;
}
