/**
 * The actors a scenario's pipeline needs after its sources: one fusion actor per pair (fusing
 * its two cameras, or passing on the one it has), the voxel stage (one actor, or `voxel_shards` each owning a slab of the
 * airspace), and the tracker. `skyvox up` runs them on its one node; a cluster's
 * `cluster.pipeline` has the coordinator place them.
 */
import type { Subjects } from '../../bus/subjects.js';
import { rigOf, rigPairs } from '../../sim/rig.js';
import type { Scenario } from '../../sim/scenario.js';
import type { ActorConfig } from './config.js';

export interface PipelineLayout {
  /** The rig: a built-in scenario name or a scenario file every node can read. */
  scenario: string;
  voxel_shards?: number;
  fusion?: Record<string, unknown>;
  voxel?: Record<string, unknown>;
  tracker?: Record<string, unknown>;
}

/**
 * One fusion actor per pair. Given `watched`, each is watched by the coordinator: silent on its
 * pair's fused subject while its view camera speaks, it is moved.
 */
export function fusionActors(scenario: Scenario, file: string, options: Record<string, unknown> = {}, watched?: Subjects): ActorConfig[] {
  return rigPairs(rigOf(scenario)).map((p) => {
    const liveness = watched ? { liveness: { input: watched.det(p.view.id), output: watched.fused(p.name) } } : {};
    const cameras = { ...(p.mono && { mono: p.mono.id }), ...(p.thermal && { thermal: p.thermal.id }) };
    return { name: `fusion-${p.name}`, kind: 'fusion', restart: 'permanent', options: { ...options, pair: p.name, ...cameras, scenario: file }, ...liveness };
  });
}

/** The voxel actor, or its shards `voxel-1`… each with `options.shard`; given `watched`, each is watched for output. */
export function voxelActors(file: string, shards = 1, options: Record<string, unknown> = {}, watched?: Subjects): ActorConfig[] {
  const watch = (output: string) => (watched ? { liveness: { input: watched.fusedAll, output } } : {});
  if (shards <= 1) return [{ name: 'voxel', kind: 'voxel', restart: 'permanent', options: { ...options, scenario: file }, ...(watched ? watch(watched.meas) : {}) }];
  return Array.from({ length: shards }, (_, index) => ({ name: `voxel-${index + 1}`, kind: 'voxel', restart: 'permanent', options: { ...options, scenario: file, shard: { index, count: shards } }, ...(watched ? watch(watched.measShard(index)) : {}) }));
}

/**
 * Fusion, voxel and tracker actors for `layout`; given `watched` (a cluster's subjects), the
 * coordinator watches every one of them for output that stops while its input flows.
 */
export function pipelineActors(scenario: Scenario, layout: PipelineLayout, watched?: Subjects): ActorConfig[] {
  const shards = layout.voxel_shards ?? 1;
  const liveness = watched ? { liveness: { input: shards > 1 ? watched.measShards : watched.meas, output: watched.tracks } } : {};
  return [
    ...fusionActors(scenario, layout.scenario, layout.fusion, watched),
    ...voxelActors(layout.scenario, shards, layout.voxel, watched),
    // The tracker knows the rig too: a scan missing some pairs misses no track only they see.
    { name: 'tracker', kind: 'tracker', restart: 'permanent', options: { ...layout.tracker, scenario: layout.scenario }, ...liveness },
  ];
}
