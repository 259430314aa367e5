/** Stage settings files (`--options FILE`) shared by `up`, `node`, `replay` and `process`. */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { motionParams } from '../kernels/motion-params.js';
import { pairFramesetSettings } from '../actors/fusion/pair-framesets.js';
import { DEFAULT_VOXEL_TIMING, VOXEL_CHECKPOINT_SETTINGS, voxelCheckpointSettings, voxelTimingSettings } from '../actors/voxel/voxel-settings.js';
import { checkVoxelStageOptions } from '../actors/voxel/voxel-stage.js';
import { Tracker } from '../actors/tracker/tracker.js';
import { UsageError } from './errors.js';

/** The settings of each stage: maps of the motion kernel's, fusion, voxel and tracker actors' options. */
export interface StageOptions {
  [stage: string]: Record<string, unknown> | undefined;
  motion?: Record<string, unknown>;
  fusion?: Record<string, unknown>;
  voxel?: Record<string, unknown>;
  tracker?: Record<string, unknown>;
}

/** Stage settings from --options FILE: {motion, fusion, voxel, tracker}, each a map. */
export function stageOptions(file: string | undefined): StageOptions {
  if (!file) return {};
  const raw = parseYaml(readFileSync(file, 'utf8')) as unknown;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new UsageError(`${file}: expected a map with motion, fusion, voxel and tracker sections`);
  for (const [k, v] of Object.entries(raw)) {
    if (!['motion', 'fusion', 'voxel', 'tracker'].includes(k)) throw new UsageError(`${file}: ${k}: expected one of motion, fusion, voxel, tracker`);
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError(`${file}: ${k}: expected a map of settings`);
  }
  const motion = (raw as Record<string, unknown>).motion as Record<string, unknown> | undefined;
  try {
    motionParams(motion ?? {});
  } catch (err) {
    throw new UsageError(`${file}: motion: ${(err as Error).message}`);
  }
  try {
    pairFramesetSettings((raw as StageOptions).fusion ?? {});
    voxelTimingSettings((raw as StageOptions).voxel ?? {});
    voxelCheckpointSettings((raw as StageOptions).voxel ?? {});
    checkVoxelStageOptions((raw as StageOptions).voxel ?? {}, [...Object.keys(DEFAULT_VOXEL_TIMING), ...VOXEL_CHECKPOINT_SETTINGS]);
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  // The tracker's settings are checked now (the actor's own, such as archive, pass unread), so a typo stops the run before it starts.
  try {
    new Tracker((raw as StageOptions).tracker ?? {});
  } catch (err) {
    throw new UsageError(`${file}: tracker: ${(err as Error).message}`);
  }
  return raw as StageOptions;
}

