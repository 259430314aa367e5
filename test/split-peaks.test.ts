/**
 * Objects closer than the voxel stage's coarse voxels — a formation — give one voxel peak
 * between them; the stage must still give one point per object (actors/voxel/split-peaks.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stageOptions } from '../cli/stage-options.js';
import { type Fused, VoxelStage } from '../actors/voxel/voxel-stage.js';
import { binToF64, f32ToBin } from '../bus/codec.js';
import type { Frameset } from '../frames/frameset.js';
import type { Vec3 } from '../geometry/vec3.js';
import { FUSED_STRIDE } from '../schemas/fused.js';
import { MEAS_STRIDE } from '../schemas/measurement.js';
import { rigOf } from '../sim/rig.js';
import { loadScenario, parseScenario } from '../sim/scenario.js';
import { Simulator } from '../sim/simulator.js';
import { OfflinePipeline } from '../actors/batch-worker/offline-pipeline.js';
import type { VoxelStageOptions } from '../actors/voxel/voxel-stage.js';

// Four mono-only pairs on the corners of a 1 km square, looking at its middle 150 m up.
const corners: [number, number][] = [
  [-500, -500],
  [500, -500],
  [500, 500],
  [-500, 500],
];
const scenario = parseScenario({
  name: 'square4',
  seed: 1,
  duration_s: 1,
  fps: 10,
  mode: 'detections',
  site: { lat: 0, lon: 0, alt: 0 },
  cameras: corners.map(([x, y], i) => ({ id: `c${i}`, pair: `c${i}`, band: 'mono', resolution: [2560, 1440], fov_deg: 60, position: [x, y, 5], look_at: [0, 0, 150] })),
  targets: [{ id: 'd', kind: 'drone', size_m: 0.5, waypoints: [[0, 0, 0, 150], [1, 1, 0, 150]] }],
  sensor: { mono: { read_noise_dn: 2, gain_e_per_dn: 40, psf_sigma_px: 0.8, bit_depth: 8, sky_dn: 170 }, thermal: { read_noise_dn: 1.5, gain_e_per_dn: 20, psf_sigma_px: 0.9, bit_depth: 8, sky_dn: 60 } },
});
const cams = new Map(rigOf(scenario).map((c) => [c.id, c.model]));

/** A pair's fused frame with a detection (SNR 20, 0.2 px of noise) of each point in its view. */
function frame(pair: string, points: readonly Vec3[]): Fused {
  const cam = cams.get(pair)!;
  const rows: number[] = [];
  for (const p of points) {
    const uv = cam.project(p);
    if (uv && cam.inImage(uv[0], uv[1])) rows.push(uv[0], uv[1], 0.04, 0.04, 0, 80, 4, 20, 20, 0.3, 0);
  }
  return { t_ns: 1_000_000_000n, pair, mono: pair, thermal: '', seq: 0, count: rows.length / FUSED_STRIDE, thermal_seen: false, overflow: 0, blobs: f32ToBin(rows) };
}
const setOf = (points: readonly Vec3[]): Frameset<Fused> => {
  const views = [...cams.keys()].map((pair) => frame(pair, points));
  return { t_ns: views[0]!.t_ns, views: new Map(views.map((f) => [f.pair, f])), missing: [] };
};
const pointsOf = (m: { count: number; points: Uint8Array }): Vec3[] => {
  const v = binToF64(m.points);
  return Array.from({ length: m.count }, (_, i): Vec3 => [v[i * MEAS_STRIDE]!, v[i * MEAS_STRIDE + 1]!, v[i * MEAS_STRIDE + 2]!]);
};
const dist = (p: Vec3, q: Vec3) => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]);

// Eight drones on a 4 m lattice, 2 × 2 × 2, about 520–700 m from every camera: 15–25 px apart in
// each image, well resolved, but within two of the stage's 4 m voxels of each other.
const formation: Vec3[] = [];
for (const dx of [0, 4]) for (const dy of [0, 4]) for (const dz of [0, 4]) formation.push([-30 + dx, 20 + dy, 140 + dz]);

describe('crowded voxel peaks', () => {
  it('a formation closer than the voxels gives one point per drone, each where the drone is', async () => {
    const stage = new VoxelStage(scenario, { track_aided: false });
    const pts = pointsOf((await stage.process(setOf(formation))).meas);
    assert.equal(pts.length, formation.length, `points: ${JSON.stringify(pts)}`);
    for (const f of formation) assert.ok(pts.some((p) => dist(p, f) < 0.1), `a point within 0.1 m of ${f}: ${JSON.stringify(pts)}`);
  });

  it('without the split the same frameset merges drones (the case the split exists for)', async () => {
    const stage = new VoxelStage(scenario, { track_aided: false, split_pairings: 0 });
    const pts = pointsOf((await stage.process(setOf(formation))).meas);
    const found = formation.filter((f) => pts.some((p) => dist(p, f) < 0.1)).length;
    assert.ok(found < formation.length, `found ${found} of ${formation.length}`);
  });

  it('a lone drone with a bird beside it in two cameras\' images still gives one point, at the drone, and no ghost', async () => {
    const drone: Vec3 = [10, -20, 160];
    // Each bird 200 m from its camera, on the line through a point a few metres beside the drone:
    // next to the drone in that camera's image, nowhere near it (or the other bird) in 3D.
    const birdFor = (pair: string, off: Vec3): Vec3 => {
      const c = cams.get(pair)!.center;
      const beside: Vec3 = [drone[0] + off[0], drone[1] + off[1], drone[2] + off[2]];
      const k = 200 / dist(beside, c);
      const bird: Vec3 = [c[0] + (beside[0] - c[0]) * k, c[1] + (beside[1] - c[1]) * k, c[2] + (beside[2] - c[2]) * k];
      const [du, dv] = [0, 1].map((a) => cams.get(pair)!.project(bird)![a]! - cams.get(pair)!.project(drone)![a]!);
      assert.ok(Math.hypot(du!, dv!) < 30 && Math.hypot(du!, dv!) > 5, `the bird is beside the drone in ${pair}'s image: ${du}, ${dv} px`);
      return bird;
    };
    const birds = new Map([
      ['c0', birdFor('c0', [3, 0, 2])],
      ['c1', birdFor('c1', [-2, 3, -2])],
    ]);
    const views = [...cams.keys()].map((pair) => frame(pair, birds.has(pair) ? [drone, birds.get(pair)!] : [drone]));
    for (const options of [{}, { ghost_views: 0 }]) {
      const stage = new VoxelStage(scenario, { track_aided: false, ...options });
      const pts = pointsOf((await stage.process({ t_ns: views[0]!.t_ns, views: new Map(views.map((f) => [f.pair, f])), missing: [] })).meas);
      assert.equal(pts.length, 1, `${JSON.stringify(options)}: points ${JSON.stringify(pts)}`);
      assert.ok(dist(pts[0]!, drone) < 0.1);
    }
  });

  it('form4: every drone of the formation has a confirmed track of its own within 3 s (none without the split)', async () => {
    const form4 = { ...loadScenario('form4'), duration_s: 3 };
    const covered = async (voxel: VoxelStageOptions) => {
      const sim = new Simulator(form4, 1_000_000_000_000n);
      const pipeline = new OfflinePipeline(form4, { voxel });
      let last;
      for (let k = 0; k < sim.frameCount; k++) for (const cam of sim.cameras) for (const s of await pipeline.push(sim.detections(cam, k)!.frame)) last = s.tracks;
      const truth = sim.truth(sim.frameCount - 1).objects.filter((o) => o.id.startsWith('f'));
      assert.equal(last!.t_ns, sim.truth(sim.frameCount - 1).t_ns, 'the last scan is the last frame\'s');
      const ids = truth.map((o) => last!.tracks.find((t) => t.status === 'confirmed' && dist(t.position as Vec3, o.position as Vec3) < 0.5)?.id);
      return new Set(ids.filter((id) => id !== undefined)).size;
    };
    assert.equal(await covered({}), 8);
    assert.ok((await covered({ split_pairings: 0 })) < 8);
  });

  it('the stage\'s settings are checked, each error naming the setting; an options file\'s misspelt one too', () => {
    assert.throws(() => new VoxelStage(scenario, { split_pairings: -1 }), /voxel\.split_pairings: expected an integer ≥ 0, got -1/);
    assert.throws(() => new VoxelStage(scenario, { split_pairings: 'many' as unknown as number }), /voxel\.split_pairings: expected an integer ≥ 0, got "many"/);
    assert.throws(() => new VoxelStage(scenario, { duplicate_m: -1 }), /voxel\.duplicate_m: expected a number of metres ≥ 0, got -1/);
    assert.throws(() => new VoxelStage(scenario, { track_aided: 'yes' as unknown as boolean }), /voxel\.track_aided: expected true or false, got "yes"/);
    assert.throws(() => new VoxelStage(scenario, { association: { gateChi2: -1 } }), /voxel\.association\.gateChi2: expected a number > 0, got -1/);
    assert.throws(() => new VoxelStage(scenario, { association: { minViews: 1 } }), /voxel\.association\.minViews: expected an integer ≥ 2, got 1/);
    assert.throws(() => new VoxelStage(scenario, { association: { gate: 3 } as object }), /voxel\.association\.gate: unknown setting \(expected one of gateChi2, /);
    const dir = mkdtempSync(join(tmpdir(), 'skyvox-voxel-options-'));
    try {
      const file = join(dir, 'stages.yaml');
      writeFileSync(file, 'voxel:\n  split_pairing: 0\n');
      assert.throws(() => stageOptions(file), /stages\.yaml: voxel\.split_pairing: unknown setting \(expected one of .*split_pairings.*queue, checkpoint_ms\)/);
      writeFileSync(file, 'voxel:\n  queue: 4\n  split_pairings: 0\n  association: { residualChi2: 9 }\n');
      assert.deepEqual(stageOptions(file).voxel, { queue: 4, split_pairings: 0, association: { residualChi2: 9 } });
      writeFileSync(file, 'voxel:\n  checkpoint_ms: soon\n');
      assert.throws(() => stageOptions(file), /stages\.yaml: voxel\.checkpoint_ms: expected a number of milliseconds >= 0 .*, got "soon"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
