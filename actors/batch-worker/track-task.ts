/**
 * A track task: every detection a job's motion tasks stored, in time order, through the
 * offline pipeline (fusion, voxel, tracker as the live actors run them).
 */
import { parse as parseYaml } from 'yaml';
import type { Scenario } from '../../sim/scenario.js';
import { parseScenario } from '../../sim/scenario.js';
import type { DetectionFrame } from '../../schemas/detections.js';
import type { MessageOf } from '../../schemas/message.js';
import { type OfflineOptions, OfflinePipeline, type ScanOutput } from './offline-pipeline.js';

type Detections = MessageOf<typeof DetectionFrame>;

/** The rig of a track task (scenario YAML text); an error names the field. */
export function rigFromText(text: string): Scenario {
  return parseScenario(parseYaml(text) as unknown, 'task.scenario');
}

/** Runs the pipeline over `detections` (any order; a camera's frame stored twice counts once); `emit` takes each scan. */
export async function runTrackTask(rig: Scenario, detections: Detections[], options: OfflineOptions, emit: (s: ScanOutput) => void, signal: AbortSignal): Promise<{ scans: number; frames: number; duplicates: number }> {
  const seen = new Set<string>();
  const unique: Detections[] = [];
  for (const d of detections) {
    const key = `${d.cam}\n${d.seq}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(d);
  }
  // Time order; a camera's frames of one instant in a fixed order, so a rerun is identical.
  unique.sort((a, b) => (a.t_ns < b.t_ns ? -1 : a.t_ns > b.t_ns ? 1 : a.cam < b.cam ? -1 : a.cam > b.cam ? 1 : 0));
  const pipeline = new OfflinePipeline(rig, options);
  let scans = 0;
  for (const d of unique) {
    if (signal.aborted) throw new Error('aborted');
    for (const s of await pipeline.push(d)) {
      emit(s);
      scans++;
    }
  }
  for (const s of await pipeline.finish()) {
    emit(s);
    scans++;
  }
  return { scans, frames: unique.length, duplicates: detections.length - unique.length };
}
