/**
 * How the voxel actor groups and paces its instants — the options around the voxel stage — and
 * the stage's voxel grid defaults, checked in one place for the live actor, batch work and
 * `--options` files.
 */
import { type VoxelParams, voxelParams } from '../../kernels/voxel-params.js';

/**
 * The voxel stage's grid (its `voxel` option overrides any of these): coarse voxels, since here
 * the grid only says which leftover detections belong together, and a budget taken at start.
 */
export const VOXEL_STAGE_GRID: Partial<VoxelParams> = { lodRatio: 0.01, minVoxel: 2, maxVoxel: 16, memoryBudget: 128 * 1024 * 1024, preallocate: true };

/** The stage's grid settings with `overrides` (the stage's `voxel` option), checked; the world box is the stage's unless given. */
export function voxelStageGrid(overrides: unknown = {}): VoxelParams {
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)) throw new TypeError(`voxel.voxel: expected a map of voxel grid settings, got ${JSON.stringify(overrides)}`);
  try {
    return voxelParams({ ...VOXEL_STAGE_GRID, ...(overrides as Partial<VoxelParams>) });
  } catch (err) {
    throw new TypeError(`voxel.voxel: ${(err as Error).message}`);
  }
}

/** The voxel actor's timing settings (options of the `voxel` stage). */
export interface VoxelTimingSettings {
  /** The pairs' views within this much of each other are one instant (ms). */
  tolerance_ms: number;
  /** How long an instant waits for its missing pairs (ms). */
  max_wait_ms: number;
  /** How long an instant waits for the tracker's answer to the one before (ms; 0 = never). */
  track_wait_ms: number;
  /** How many framesets may wait while one is processed; older ones are dropped and counted. */
  queue: number;
}

export const DEFAULT_VOXEL_TIMING: VoxelTimingSettings = { tolerance_ms: 10, max_wait_ms: 80, track_wait_ms: 20, queue: 1 };

/** The timing settings in `options` (voxel stage options), checked; defaults for those absent. */
export function voxelTimingSettings(options: object): VoxelTimingSettings {
  const out = { ...DEFAULT_VOXEL_TIMING };
  for (const k of Object.keys(DEFAULT_VOXEL_TIMING) as (keyof VoxelTimingSettings)[]) {
    const v = (options as Record<string, unknown>)[k];
    if (v === undefined) continue;
    if (k === 'queue') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new TypeError(`voxel.queue: expected an integer >= 1 (framesets that may wait while one is processed), got ${JSON.stringify(v)}`);
    } else if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new TypeError(`voxel.${k}: expected a number of milliseconds >= 0, got ${JSON.stringify(v)}`);
    out[k] = v;
  }
  return out;
}

/** Where the voxel actor keeps what it learnt (learn_turn) for the next incarnation of it. */
export interface VoxelCheckpointSettings {
  /** How often, at most, changed turns are written to the `<prefix>_state` KV bucket (ms; 0 = never, and none restored). */
  checkpoint_ms: number;
  /** A run's name: turns written under another are not restored (unset: any with a matching calibration are). */
  session: string | undefined;
  /** Replicas of the bucket (3 on a 3-server cluster). */
  replicas: number;
}

/** The settings a `--options` file's voxel section may hold besides the stage's and the timing's. */
export const VOXEL_CHECKPOINT_SETTINGS = ['checkpoint_ms'] as const;

/** The checkpoint settings in `options` (the voxel actor's), checked; defaults for those absent. */
export function voxelCheckpointSettings(options: object): VoxelCheckpointSettings {
  const { checkpoint_ms: ms = 1000, session, replicas = 1 } = options as Record<string, unknown>;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new TypeError(`voxel.checkpoint_ms: expected a number of milliseconds >= 0 (0: learnt turns are neither kept nor restored), got ${JSON.stringify(ms)}`);
  if (session !== undefined && typeof session !== 'string') throw new TypeError(`voxel.session: expected a run's name (a string), got ${JSON.stringify(session)}`);
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 1 || replicas > 5) throw new TypeError(`voxel.replicas: expected an integer from 1 to 5, got ${JSON.stringify(replicas)}`);
  return { checkpoint_ms: ms, session, replicas };
}
