/** `skyvox bench [NAME]`: benchmarks that print JSON with ratios against same-run baselines. */
import { nativeMotionThroughput } from '../bench/native-motion.js';
import { renderThroughput } from '../bench/render-throughput.js';
import { telemetryOverhead } from '../bench/telemetry-overhead.js';
import { clusterScaling } from '../bench/cluster-scaling.js';
import { trackerThroughput } from '../bench/tracker-throughput.js';
import { UsageError } from './errors.js';

export const BENCHES = ['telemetry', 'render', 'native', 'tracker', 'scaling'] as const;

export interface BenchOptions {
  actors: number;
  rateHz: number;
  windowS: number;
  repeats: number;
  targets: number;
}

/** Runs the named benchmark (all when none) and prints one JSON document. */
export async function bench(name: string | undefined, o: BenchOptions): Promise<number> {
  if (name !== undefined && !(BENCHES as readonly string[]).includes(name)) throw new UsageError(`Expected a benchmark (${BENCHES.join(', ')}) but received "${name}"`);
  const results: Record<string, unknown>[] = [];
  if (!name || name === 'native') results.push(await nativeMotionThroughput(o.windowS * 250));
  if (!name || name === 'render') results.push(await renderThroughput(o.windowS * 250));
  if (!name || name === 'telemetry') results.push(await telemetryOverhead(o));
  // The figure: 250 targets at 35 scans a second within one core.
  if (!name || name === 'tracker') results.push(trackerThroughput({ targets: o.targets, scansPerS: 35, scans: Math.round(o.windowS * 35) }));
  // Minutes long: only when asked for by name.
  if (name === 'scaling') results.push(await clusterScaling({ recordS: o.windowS * 2, repeats: o.repeats, nodes: [1, 2, 3] }));
  process.stdout.write(`${JSON.stringify({ node: process.version, cpus: (await import('node:os')).cpus().length, results }, null, 2)}\n`);
  return 0;
}
