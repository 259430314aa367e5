import { OfflinePipeline } from '../../actors/batch-worker/offline-pipeline.js';
import type { VoxelStageOptions } from '../../actors/voxel/voxel-stage.js';
import { binToF64 } from '../../bus/codec.js';
import { MEAS_STRIDE } from '../../schemas/measurement.js';
import { parseScenario, type Scenario } from '../../sim/scenario.js';
import { Simulator } from '../../sim/simulator.js';

/** Four mono cameras on a 600 m square watching 16 drones, each camera `deg` off its calibration (rms per axis), behind lenses of `fovDeg`. */
export function squareRig(deg: number, seed = 44, fovDeg = 60): Scenario {
  const at = (id: string, x: number, y: number) => ({ id, pair: id, band: 'mono', resolution: [1920, 1080], fov_deg: fovDeg, position: [x, y, 2], look_at: [0, 0, 120], calibration_error: { rotation_deg: deg } });
  return parseScenario({
    name: 'square', seed, duration_s: 6, fps: 30, mode: 'detections', site: { lat: 47, lon: 8, alt: 400 },
    cameras: [at('a', -300, -300), at('b', 300, -300), at('c', 300, 300), at('d', -300, 300)],
    targets: [{ generate: 'swarm', id_prefix: 's', count: 16, kind: 'drone', size_m: [0.5, 0.9], box: [[-150, -150, 60], [150, 150, 200]], speed_mps: [5, 15] }],
  });
}

/**
 * The pipeline run offline over a scenario: each measurement's view count, each measurement's
 * distance to the nearest true object at its frame (m), and the tracks (serialised, to compare runs).
 */
export async function runOffline(s: Scenario, voxel: VoxelStageOptions): Promise<{ views: number[]; errors: { t: number; m: number }[]; tracks: string }> {
  const sim = new Simulator(s, 0n);
  const views: number[] = [];
  const errors: { t: number; m: number }[] = [];
  const pipeline = new OfflinePipeline(s, { voxel }, (type, value) => {
    if (type.name === 'Measurements') {
      const m = value as { t_ns: bigint; count: number; points: Uint8Array };
      const v = binToF64(m.points);
      const t = Number(m.t_ns) / 1e9;
      const truth = sim.truth(Math.round(t * s.fps)).objects;
      for (let i = 0; i < m.count; i++) {
        views.push(v[i * MEAS_STRIDE + 13]!);
        const d = Math.min(...truth.map((o) => Math.hypot(o.position[0] - v[i * MEAS_STRIDE]!, o.position[1] - v[i * MEAS_STRIDE + 1]!, o.position[2] - v[i * MEAS_STRIDE + 2]!)));
        errors.push({ t, m: d });
      }
    }
    return value;
  });
  await pipeline.ready();
  const tracks: unknown[] = [];
  for (let k = 0; k < sim.frameCount; k++) {
    for (const cam of sim.cameras) {
      const out = sim.detections(cam, k);
      if (out) for (const scan of await pipeline.push(out.frame)) tracks.push(scan.tracks);
    }
  }
  for (const scan of await pipeline.finish()) tracks.push(scan.tracks);
  return { views, errors, tracks: JSON.stringify(tracks, (_k, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString('base64') : x)) };
}
