/**
 * Ghosts: two objects each seen by one camera, whose rays cross in mid-air, look like one
 * object seen by two. A third camera that would plainly see the crossing point, and sees
 * nothing there, refutes it (actors/voxel/refute.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { refutingWitness, type Witness } from '../actors/voxel/refute.js';
import { type Fused, VoxelStage } from '../actors/voxel/voxel-stage.js';
import { binToF64, f32ToBin, f64ToBin } from '../bus/codec.js';
import type { Frameset } from '../frames/frameset.js';
import type { Camera } from '../geometry/camera.js';
import type { Vec3 } from '../geometry/vec3.js';
import { observableFor } from '../eval/observable.js';
import { FUSED_STRIDE } from '../schemas/fused.js';
import { MEAS_STRIDE } from '../schemas/measurement.js';
import { rigOf } from '../sim/rig.js';
import { loadScenario, parseScenario } from '../sim/scenario.js';
import { Simulator } from '../sim/simulator.js';

// Three mono-only pairs: a and b 800 m apart, c between them and nearer the sky they watch.
const scenario = parseScenario({
  name: 'three-pairs',
  seed: 1,
  duration_s: 1,
  fps: 25,
  mode: 'detections',
  site: { lat: 0, lon: 0, alt: 0 },
  cameras: [
    { id: 'a', pair: 'a', band: 'mono', resolution: [1920, 1080], fov_deg: 60, position: [-400, -400, 2], look_at: [0, 200, 150] },
    { id: 'b', pair: 'b', band: 'mono', resolution: [1920, 1080], fov_deg: 60, position: [400, -400, 2], look_at: [0, 200, 150] },
    { id: 'c', pair: 'c', band: 'mono', resolution: [1920, 1080], fov_deg: 70, position: [0, -100, 2], look_at: [0, 200, 150] },
  ],
  targets: [{ id: 'd', kind: 'drone', size_m: 0.5, waypoints: [[0, 0, 200, 150], [1, 0, 201, 150]] }],
  sensor: { mono: { read_noise_dn: 2, gain_e_per_dn: 40, psf_sigma_px: 0.8, bit_depth: 8, sky_dn: 170 }, thermal: { read_noise_dn: 1.5, gain_e_per_dn: 20, psf_sigma_px: 0.9, bit_depth: 8, sky_dn: 60 } },
});
const cams = new Map(rigOf(scenario).map((c) => [c.id, c.model]));
const cam = (id: string) => cams.get(id)!;

/** A camera's fused frame holding a detection (SNR `snr`) of each point it has in view. */
function frame(pair: string, points: Vec3[], snr: number, t_ns = 1_000_000_000n, overflow = 0): Fused {
  const rows: number[] = [];
  for (const p of points) {
    const uv = cam(pair).project(p);
    if (uv && cam(pair).inImage(uv[0], uv[1])) rows.push(uv[0], uv[1], 0.04, 0.04, 0, snr * 4, 4, snr, snr, 0.3, 0);
  }
  return { t_ns, pair, mono: pair, thermal: '', seq: 0, count: rows.length / FUSED_STRIDE, thermal_seen: false, overflow, blobs: f32ToBin(rows) };
}

const along = (c: Camera, through: Vec3, range: number): Vec3 => {
  const d = [through[0] - c.center[0], through[1] - c.center[1], through[2] - c.center[2]];
  const n = Math.hypot(d[0]!, d[1]!, d[2]!);
  return [c.center[0] + (d[0]! / n) * range, c.center[1] + (d[1]! / n) * range, c.center[2] + (d[2]! / n) * range];
};

// The crossing point, and two birds on its rays: one nearer camera a, one nearer camera b.
const G: Vec3 = [0, 250, 180];
const birdA = along(cam('a'), G, 300);
const birdB = along(cam('b'), G, 350);
const setOf = (views: Fused[]): Frameset<Fused> => ({ t_ns: views[0]!.t_ns, views: new Map(views.map((f) => [f.pair, f])), missing: [] });
const pointsOf = (m: { count: number; points: Uint8Array }): Vec3[] => {
  const v = binToF64(m.points);
  return Array.from({ length: m.count }, (_, i): Vec3 => [v[i * MEAS_STRIDE]!, v[i * MEAS_STRIDE + 1]!, v[i * MEAS_STRIDE + 2]!]);
};

describe('ghost points in small rigs', () => {
  it('the birds are set up as intended: each seen by one camera only, their rays crossing at G, which c has in view', () => {
    assert.equal(frame('a', [birdA, birdB], 20).count, 1);
    assert.equal(frame('b', [birdA, birdB], 20).count, 1);
    assert.equal(frame('c', [birdA, birdB], 20).count, 0, 'c sees neither bird');
    assert.equal(frame('c', [G], 20).count, 1, 'c has G in view');
  });

  it('a point two views cross at is refuted by a camera of the same band that would see it brightly and sees nothing there; not when it sees something, is so far it would see it faintly, is of another band, overflowed, or has it out of view', () => {
    const o = { minSnr: 10, searchPx: 40, marginPx: 16 };
    const w = (pair: string, points: Vec3[], over: Partial<Witness> = {}): Witness => {
      const f = frame(pair, points, 20);
      return { camera: cam(pair), band: 'mono', blobs: new Float32Array(f.blobs.buffer, f.blobs.byteOffset, f.count * FUSED_STRIDE), count: f.count, complete: true, ...over };
    };
    const views: [number, number][] = [[0, 0], [1, 0]];
    assert.equal(refutingWitness(G, views, [w('a', [birdA]), w('b', [birdB]), w('c', [])], o), 2);
    assert.equal(refutingWitness(G, views, [w('a', [birdA]), w('b', [birdB]), w('c', [G])], o), -1, 'c sees something there');
    assert.equal(refutingWitness(G, views, [w('a', [birdA]), w('b', [birdB]), w('c', [], { band: 'thermal' })], o), -1, 'another band');
    assert.equal(refutingWitness(G, views, [w('a', [birdA]), w('b', [birdB]), w('c', [], { complete: false })], o), -1, 'its blob cap overflowed');
    assert.equal(refutingWitness(G, views, [w('a', [birdA]), w('b', [birdB]), w('c', [])], { ...o, minSnr: 1000 }), -1, 'not bright enough to be certain');
    // 5 km out, c sees it 0.87 times as large as a does: an unresolved object's SNR of 20 in a
    // is 20 × 0.87² = 15.2 in c (linearly it would be 17.4).
    const far: Vec3 = along(cam('c'), G, 5000);
    assert.equal(refutingWitness(far, views, [w('a', [birdA]), w('b', [birdB]), w('c', [])], o), 2, 'farther from c than from a and b, still bright in c');
    assert.equal(refutingWitness(far, views, [w('a', [birdA]), w('b', [birdB]), w('c', [])], { ...o, minSnr: 16 }), -1, 'at an SNR of 15.2 c may miss it');
    const behind: Vec3 = [0, -300, 100];
    assert.equal(refutingWitness(behind, views, [w('a', []), w('b', []), w('c', [])], o), -1, 'out of c\'s view');
  });

  it('the voxel stage leaves the crossing out, and keeps a real object seen by the same two views when the third sees it too', async () => {
    const ghostOf = async (options: object, withC: Vec3[]) => {
      const stage = new VoxelStage(scenario, { track_aided: false, ...options });
      const { meas, info } = await stage.process(setOf([frame('a', [birdA, birdB], 20), frame('b', [birdA, birdB], 20), frame('c', withC, 20)]));
      return { points: pointsOf(meas), ghosts: info.ghosts };
    };
    const near = (ps: Vec3[], q: Vec3) => ps.some((p) => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) < 5);
    const kept = await ghostOf({ ghost_views: 0 }, []);
    assert.ok(near(kept.points, G), `without the check the crossing is a point: ${JSON.stringify(kept.points)}`);
    const refuted = await ghostOf({}, []);
    assert.ok(!near(refuted.points, G), `refuted: ${JSON.stringify(refuted.points)}`);
    assert.equal(refuted.ghosts, 1);
    // A real object at G: a and b see it, and so does c.
    const stage = new VoxelStage(scenario, { track_aided: false });
    const { meas } = await stage.process(setOf([frame('a', [G], 20), frame('b', [G], 20), frame('c', [G], 20)]));
    assert.ok(near(pointsOf(meas), G), 'a real object stays');
  });

  it('a track on a crossing (a ghost that became a track) is refuted the same way: its two-view point is left out, and a real object\'s kept', async () => {
    const P = new Float64Array(36);
    for (let i = 0; i < 6; i++) P[i * 7] = i < 3 ? 0.01 : 1;
    const track = { id: 't1', status: 'confirmed' as const, position: [G[0], G[1], G[2]] as [number, number, number], velocity: [0, 0, 0] as [number, number, number], covariance: f64ToBin(P), score: 1, views: 2 };
    const pointsWith = async (withC: Vec3[]) => {
      const stage = new VoxelStage(scenario, {});
      stage.setTracks({ t_ns: 1_000_000_000n, scan: 0, published_ns: 1_000_000_000n, tracks: [track] });
      const { meas } = await stage.process(setOf([frame('a', [birdA, birdB], 20), frame('b', [birdA, birdB], 20), frame('c', withC, 20)]));
      return pointsOf(meas);
    };
    const near = (ps: Vec3[]) => ps.some((p) => Math.hypot(p[0] - G[0], p[1] - G[1], p[2] - G[2]) < 1);
    assert.ok(!near(await pointsWith([])), 'c has the crossing well in view and sees nothing there');
    const stage = new VoxelStage(scenario, {});
    stage.setTracks({ t_ns: 1_000_000_000n, scan: 0, published_ns: 1_000_000_000n, tracks: [track] });
    const { meas } = await stage.process(setOf([frame('a', [G], 20), frame('b', [G], 20), frame('c', [G], 20)]));
    assert.ok(near(pointsOf(meas)), 'a real object seen by all three stays');
  });

  it("a camera's detection mask: where it does not look it refutes nothing, reports nothing in detection mode; the scenario names a bad mask", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyvox-mask-'));
    try {
      // c looks only at a corner of its frame: G and the drone are both where it does not look.
      const pgm = (w: number, h: number) => Buffer.concat([Buffer.from(`P5\n${w} ${h}\n255\n`), Buffer.from(new Uint8Array(w * h).map((_, i) => (i % w < 50 && i < 50 * w ? 255 : 0)))]);
      writeFileSync(join(dir, 'c.pgm'), pgm(1920, 1080));
      const raw = structuredClone(scenario) as unknown as { cameras: { id: string; mask?: string }[] };
      raw.cameras.find((c) => c.id === 'c')!.mask = 'c.pgm';
      writeFileSync(join(dir, 'masked.yaml'), stringify(raw));
      const masked = loadScenario(join(dir, 'masked.yaml'));
      assert.equal(masked.cameras[2]!.mask, join(dir, 'c.pgm'), 'relative to the scenario file');
      const stage = new VoxelStage(masked, { track_aided: false });
      const { meas, info } = await stage.process(setOf([frame('a', [birdA, birdB], 20), frame('b', [birdA, birdB], 20), frame('c', [], 20)]));
      assert.equal(info.ghosts, 0);
      assert.ok(pointsOf(meas).some((p) => Math.hypot(p[0] - G[0], p[1] - G[1], p[2] - G[2]) < 5), 'c cannot tell: the point stays');
      const seenByC = (sc: typeof scenario) => {
        const sim = new Simulator(sc, 0n);
        const c = sim.cameras.find((x) => x.id === 'c')!;
        let n = 0;
        for (let k = 0; k < 10; k++) n += sim.detections(c, k)?.frame.count ?? 0;
        return n;
      };
      assert.ok(seenByC(scenario) >= 5, 'unmasked, c detects the drone');
      assert.equal(seenByC(masked), 0, 'masked, it reports nothing there');
      const drone: Vec3 = [0, 200, 150];
      assert.deepEqual([observableFor(scenario, 3)(drone, 'drone', 2), observableFor(masked, 3)(drone, 'drone', 2)], [true, false], 'the evaluation counts c out where it does not look');
      writeFileSync(join(dir, 'small.pgm'), pgm(640, 480));
      raw.cameras.find((c) => c.id === 'c')!.mask = 'small.pgm';
      writeFileSync(join(dir, 'bad.yaml'), stringify(raw));
      assert.throws(() => loadScenario(join(dir, 'bad.yaml')), /cameras\[2\]\.mask: mask: expected 1920×1080 pixels \(the frame's size\), got 640×480/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses bad settings by name', () => {
    assert.throws(() => new VoxelStage(scenario, { ghost_views: -1 }), /voxel\.ghost_views: expected an integer ≥ 0, got -1/);
    assert.throws(() => new VoxelStage(scenario, { refute_snr: 0 }), /voxel\.refute_snr: expected a number > 0, got 0/);
  });
});
