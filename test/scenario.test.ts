import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { builtinScenarios, loadScenario, parseScenario, type Scenario } from '../sim/scenario.js';
import { Simulator } from '../sim/simulator.js';
import { rigOf } from '../sim/rig.js';
import { mulMM, transpose } from '../geometry/vec3.js';
import { sceneObjects, WaypointTrack } from '../sim/trajectory.js';
import { REPO, skyvoxRun } from './helpers/cli.js';

const base = (): Record<string, any> => JSON.parse(JSON.stringify(loadScenario('quick')));

describe('scenarios', () => {
  it('ships quick, ring10, ring10cal, coast3, dusk2, valley6, tri3, flock3, form4, swarm4, corridor5 and 8k, all valid', () => {
    assert.deepEqual(builtinScenarios(), ['8k', 'coast3', 'corridor5', 'dusk2', 'flock3', 'form4', 'quick', 'ring10', 'ring10cal', 'swarm4', 'tri3', 'valley6']);
    const ring = loadScenario('ring10');
    assert.equal(ring.cameras.length, 20);
    assert.equal(new Simulator(ring, 0n).objects.filter((o) => !o.clutter).length, 200);
    const k8 = loadScenario('8k');
    assert.deepEqual(k8.cameras.map((c) => c.resolution[0]), [7680, 1280, 7680, 1280]);
  });

  it('the README\'s full scenario example is valid', () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const block = /```yaml\n(name: example[\s\S]*?)```/.exec(readme);
    assert.ok(block, 'the README has the example');
    const s = parseScenario(parse(block[1]!), 'README example');
    assert.equal(s.cameras.length, 2);
    assert.equal(new Simulator(s, 0n).objects.length, 23);
  });

  it('names the path, the expectation and the value in every error', () => {
    const cases: [(s: Record<string, any>) => void, string][] = [
      [(s) => (s.cameras[3].fov_deg = 'wide'), 'cameras[3].fov_deg: expected a number in (0, 180), got "wide"'],
      [(s) => (s.cameras[1].band = 'uv'), 'cameras[1].band: expected one of mono, thermal, got "uv"'],
      [(s) => (s.cameras[0].resolution = [1280]), 'cameras[0].resolution: expected [width, height] in pixels, got [1280]'],
      [(s) => (s.fps = 0), 'fps: expected a frame rate in (0, 1000], got 0'],
      [(s) => delete s.seed, 'seed: expected an integer seed ≥ 0, got nothing'],
      [(s) => (s.cameras[2].lens = 'zoom'), 'cameras[2].lens: unexpected field; expected one of id, pair, band, resolution, fov_deg, K, dist, position, look_at, quaternion, ypr_deg, roll_deg, clock, drop_rate, calibration_error, mask'],
      [(s) => (s.cameras[0].calibration_error = { rotation_deg: -0.1 }), 'cameras[0].calibration_error.rotation_deg: expected an rms angle in degrees in [0, 10] per axis, got -0.1'],
      [(s) => (s.cameras[0].calibration_error = { position_m: 'far' }), 'cameras[0].calibration_error.position_m: expected an rms distance in metres ≥ 0 per axis, got "far"'],
      [(s) => (s.targets[1].kind = 'ufo'), 'targets[1].kind: expected one of drone, bird, plane, got "ufo"'],
      [(s) => (s.targets[0].waypoints[1][0] = 0), 'targets[0].waypoints[1]: expected times to increase, got 0 after 0'],
      [(s) => s.targets.push({ generate: 'swarm', count: 0, kind: 'drone', box: [[0, 0, 0], [1, 1, 1]], speed_mps: [1, 2] }), 'targets[5].count: expected an integer count in [1, 100000], got 0'],
      [(s) => (s.cameras[0].K = [[1000, 0, 640], [0, 1000, 360], [0, 0, 1]]), 'cameras[0]: expected exactly one of fov_deg or K, got fov_deg and K'],
      [(s) => delete s.cameras[0].look_at, 'cameras[0]: expected exactly one of look_at, quaternion or ypr_deg, got none'],
      [(s) => (s.cameras[1].id = 'p1-mono'), 'cameras[1].id: expected a unique camera id, got "p1-mono" twice'],
      [(s) => (s.cameras[1].band = 'mono'), 'cameras: expected at most one mono and one thermal camera in pair "p1", got mono, mono'],
      [(s) => (s.cameras[2].clock = { offset_ms: 3, synced: 'no' }), 'cameras[2].clock.synced: expected true or false, got "no"'],
    ];
    for (const [mutate, message] of cases) {
      const s = base();
      mutate(s);
      assert.throws(() => parseScenario(s, 'x.yaml'), (e: Error) => {
        assert.equal(e.message, `x.yaml: ${message}`);
        return true;
      });
    }
  });

  it('a camera\'s calibration_error turns and moves the camera the simulator images through, not the calibration skyvox uses; the same every time', () => {
    const s = base();
    s.cameras[0].calibration_error = { rotation_deg: 0.05, position_m: 0.2 };
    const scenario = parseScenario(s);
    const nominal = rigOf(scenario);
    const truth = new Simulator(scenario, 0n).cameras;
    // Only camera 0 is off; the others stand where written.
    for (let i = 1; i < truth.length; i++) assert.deepEqual(truth[i]!.model, nominal[i]!.model);
    const [c, n] = [truth[0]!.model, nominal[0]!.model];
    // ΔR = R_true·R_nominalᵀ: its angle, from its trace, about 0.05° · √3 rms; never zero, never wild.
    const d = mulMM(c.R, transpose(n.R));
    const angleDeg = (Math.acos(Math.min(1, (d[0] + d[4] + d[8] - 1) / 2)) * 180) / Math.PI;
    assert.ok(angleDeg > 0.002 && angleDeg < 0.4, `turned by ${angleDeg}°`);
    const moved = Math.hypot(...c.center.map((v, a) => v - n.center[a]!));
    assert.ok(moved > 0.005 && moved < 1.2, `moved by ${moved} m`);
    // A point 500 m out lands where the turn says, about fx · angle from where the calibration puts it.
    const p = n.center.map((v, a) => v + 500 * n.ray((n.width - 1) / 2, (n.height - 1) / 2)[a]!) as [number, number, number];
    const [u, v] = [c.project(p)!, n.project(p)!];
    const offPx = Math.hypot(u[0] - v[0], u[1] - v[1]);
    assert.ok(offPx > 0.2 * n.fx * (angleDeg * Math.PI / 180) && offPx < 3 * n.fx * (angleDeg * Math.PI / 180) + 1, `${offPx} px off for ${angleDeg}°`);
    assert.deepEqual(new Simulator(scenario, 0n).cameras[0]!.model, c, 'drawn from the seed');
    assert.notDeepEqual(new Simulator({ ...scenario, seed: scenario.seed + 1 }, 0n).cameras[0]!.model.R, c.R, 'another seed, another error');
  });

  it('a malformed scenario file fails `skyvox up` with the precise message and exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyvox-scn-'));
    try {
      const s = base();
      s.cameras[3].fov_deg = 'wide';
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, stringify(s));
      const res = await skyvoxRun(['up', '--scenario', file, '--data-dir', dir]);
      assert.equal(res.code, 2);
      assert.equal(res.stderr.trim(), `skyvox: ${file}: cameras[3].fov_deg: expected a number in (0, 180), got "wide"`);
      const list = await skyvoxRun(['scenarios']);
      assert.equal(list.code, 0);
      assert.match(list.stdout, /^ring10\s+detections\s+20 cameras/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('`skyvox up --scenario ring10 --record DIR` publishes truth and detections and records them', async function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), 'skyvox-rec-'));
    try {
      const res = await skyvoxRun(['up', '--scenario', 'ring10', '--duration', '2', '--record', join(dir, 'out'), '--record-detections', '--data-dir', dir, '--nats-port', '0', '--ws-port', '0']);
      assert.equal(res.code, 0, res.stderr);
      const truth = readFileSync(join(dir, 'out', 'truth.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t_ns: number; frame: number; objects: { id: string; position: number[] }[] });
      // how many frames fit in 2 s depends on the machine's load; what is recorded must be whole
      assert.ok(truth.length >= 15 && truth.length <= 62, `${truth.length} truth lines in 2 s at 30 fps`);
      assert.deepEqual(truth.map((t) => t.frame), [...truth.keys()], 'every frame, in order, none lost');
      assert.equal(truth[0]!.objects.length, 230);
      const dets = readFileSync(join(dir, 'out', 'detections.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { cam: string; seq: number; count: number });
      assert.equal(new Set(dets.map((d) => d.cam)).size, 20);
      assert.ok(dets.filter((d) => d.cam === 'p00-mono').length >= truth.length - 1);
      assert.ok(dets.some((d) => d.count > 20), 'cameras see many of the 200 drones');
      const fused = readFileSync(join(dir, 'out', 'fused.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { pair: string; count: number; thermal_seen: boolean; blobs: string });
      assert.equal(new Set(fused.map((f) => f.pair)).size, 10, 'one fusion actor per pair');
      assert.ok(fused.filter((f) => f.thermal_seen).length > fused.length * 0.9, 'thermal frames arrive in time');
      const sources = fused.flatMap((f) => { const v = new Float32Array(new Uint8Array(Buffer.from(f.blobs, 'base64')).buffer); return Array.from({ length: f.count }, (_, i) => v[i * 11 + 10]!); });
      assert.ok(sources.filter((x) => x === 1).length > 100, 'thermal confirms detections');
      // The counters of every actor of the run, the sources process's simulator among them.
      const actors = JSON.parse(readFileSync(join(dir, 'out', 'actors.json'), 'utf8')) as { name: string; msgs_out: number }[];
      assert.ok(actors.find((a) => a.name === 'simulator')!.msgs_out >= truth.length * 21, JSON.stringify(actors));
      assert.ok(actors.some((a) => a.name === 'tracker') && actors.some((a) => a.name === 'fusion-p00'), JSON.stringify(actors));
      assert.deepEqual(readdirSync(join(dir, 'out')).filter((f) => /^actors-/.test(f)), [], 'the sources process\'s own totals were merged');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('quick in detection mode: fusion and voxel voting put 3D points on the drones; the tracker follows each with one identity', async function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), 'skyvox-meas-'));
    try {
      const file = join(dir, 'quick-det.yaml');
      writeFileSync(file, stringify({ ...base(), mode: 'detections' }));
      const res = await skyvoxRun(['up', '--scenario', file, '--duration', '5', '--record', join(dir, 'out'), '--record-detections', '--report', join(dir, 'report.json'), '--data-dir', dir, '--nats-port', '0', '--ws-port', '0']);
      assert.equal(res.code, 0, res.stderr);
      // The report's headline figures, as its file has them, on the run's last line.
      const headline = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { mota: number; id_switches: number };
      assert.match(res.stdout.trim().split('\n').at(-1)!, new RegExp(`report\\.json: MOTA ${headline.mota.toFixed(3)} .*, ${headline.id_switches} ID switches, .*latency p50 `));
      type Obj = { id: string; position: [number, number, number] };
      const truth = readFileSync(join(dir, 'out', 'truth.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t_ns: number; objects: Obj[] });
      const meas = readFileSync(join(dir, 'out', 'meas.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t_ns: number; count: number; points: string });
      assert.ok(meas.length >= 50, `${meas.length} measurement messages`);
      let [matched, unmatched] = [0, 0];
      const errors: number[] = [];
      for (const m of meas) {
        // the truth nearest in time (site clock; t_ns in JSON lines may lose a few ns as a JS number)
        const t = truth.reduce((best, x) => (Math.abs(x.t_ns - m.t_ns) < Math.abs(best.t_ns - m.t_ns) ? x : best));
        const v = new Float64Array(new Uint8Array(Buffer.from(m.points, 'base64')).buffer);
        for (let i = 0; i < m.count; i++) {
          const p = [v[i * 14]!, v[i * 14 + 1]!, v[i * 14 + 2]!];
          const d = Math.min(...t.objects.map((o) => Math.hypot(p[0]! - o.position[0], p[1]! - o.position[1], p[2]! - o.position[2])));
          if (d < 3) {
            matched++;
            errors.push(d);
          } else unmatched++;
        }
      }
      errors.sort((a, b) => a - b);
      assert.ok(matched / meas.length > 2.5, `${matched / meas.length} objects located per instant`);
      assert.ok(errors[Math.floor(errors.length / 2)]! < 0.2, `median 3D error ${errors[Math.floor(errors.length / 2)]} m`);
      assert.ok(unmatched / meas.length < 0.5, `${unmatched / meas.length} phantom points per instant`);

      type Track = { id: string; status: string; position: [number, number, number] };
      const scans = readFileSync(join(dir, 'out', 'tracks.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t_ns: number; tracks: Track[] });
      const ids = new Map<string, Set<string>>();
      let phantomScans = 0;
      for (const scan of scans.slice(25)) {
        const t = truth.reduce((best, x) => (Math.abs(x.t_ns - scan.t_ns) < Math.abs(best.t_ns - scan.t_ns) ? x : best));
        const confirmed = scan.tracks.filter((tr) => tr.status !== 'tentative');
        for (const o of t.objects.filter((x) => x.id.startsWith('d'))) {
          const near = confirmed.find((tr) => Math.hypot(tr.position[0] - o.position[0], tr.position[1] - o.position[1], tr.position[2] - o.position[2]) < 2);
          if (near) ids.set(o.id, (ids.get(o.id) ?? new Set()).add(near.id));
        }
        // coasting tracks run on without measurements by design; a phantom is one being updated on nothing
        phantomScans += confirmed.filter((tr) => tr.status === 'confirmed').filter((tr) => t.objects.every((o) => Math.hypot(tr.position[0] - o.position[0], tr.position[1] - o.position[1], tr.position[2] - o.position[2]) >= 5)).length;
      }
      assert.ok(ids.size >= 4, `drones with a confirmed track: ${[...ids.keys()].join(', ')}`);
      for (const [drone, set] of ids) assert.equal(set.size, 1, `${drone} was followed by ${[...set].join(', ')}`);
      assert.ok(phantomScans <= scans.length * 0.05, `${phantomScans} confirmed track-scans on nothing`);

      const evaluated = await skyvoxRun(['eval', '--truth', join(dir, 'out', 'truth.jsonl'), '--tracks', join(dir, 'out', 'tracks.jsonl')]);
      assert.equal(evaluated.code, 0, evaluated.stderr);
      const report = JSON.parse(evaluated.stdout) as { mota: number; idf1: number; id_switches: number; rmse_m: number };
      assert.equal(report.id_switches, 0);
      assert.ok(report.mota > 0.8 && report.idf1 > 0.9 && report.rmse_m < 0.3, JSON.stringify(report));
      const written = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { mota: number; scenario: string; crlb_ratio: number };
      assert.deepEqual([written.mota, written.scenario], [report.mota, file], '--report writes what skyvox eval computes');
      // a per-frame bound: the tracker integrates over scans, so it may come in under 1
      assert.ok(written.crlb_ratio > 0.2 && written.crlb_ratio < 3, `crlb_ratio ${written.crlb_ratio}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('waypoint tracks are linear between waypoints and held outside them', () => {
    const t = new WaypointTrack([[0, 0, 0, 0], [10, 100, 0, 50], [20, 100, 200, 50]]);
    assert.deepEqual(t.position(5), [50, 0, 25]);
    assert.deepEqual(t.velocity(5), [10, 0, 5]);
    assert.deepEqual(t.position(15), [100, 100, 50]);
    assert.deepEqual(t.position(-3), [0, 0, 0]);
    assert.deepEqual(t.position(30), [100, 200, 50]);
    assert.deepEqual(t.velocity(30), [0, 0, 0]);
  });

  it('generated swarms stay in their box, respect their speed range, and are fixed by the seed', () => {
    const s = loadScenario('ring10') as Scenario;
    const [a, b] = [sceneObjects(s), sceneObjects(s)];
    const swarm = s.targets[0] as Extract<Scenario['targets'][number], { generate: 'swarm' }>;
    for (const [i, o] of a.entries()) {
      if (o.clutter) continue;
      for (let t = 0; t < s.duration_s; t += 1.7) {
        const p = o.track.position(t);
        p.forEach((v, k) => assert.ok(v >= swarm.box[0][k]! - 1e-9 && v <= swarm.box[1][k]! + 1e-9, `${o.id} leaves its box at t=${t}`));
        const v = o.track.velocity(t);
        assert.ok(Math.hypot(v[0], v[1]) <= swarm.speed_mps[1] + 1e-6, `${o.id} too fast`);
        assert.deepEqual(p, b[i]!.track.position(t), 'same seed, same motion');
      }
      // Flown, not teleported: velocity changes by at most the airframe's acceleration (default 5 m/s²).
      for (let k = 1; k * 0.05 < s.duration_s - 0.1; k++) {
        const t = k * 0.05 + 0.025; // mid-sample: one sample interval apart
        const [v0, v1] = [o.track.velocity(t), o.track.velocity(t + 0.05)];
        const accel = Math.hypot(v1[0] - v0[0], v1[1] - v0[1], v1[2] - v0[2]) / 0.05;
        assert.ok(accel <= 5 + 1e-6, `${o.id} accelerates at ${accel.toFixed(2)} m/s² at t=${t.toFixed(2)}`);
      }
    }
  });
});
