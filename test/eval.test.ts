import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_EVAL_OPTIONS, evaluate, type TrackScan, type TruthScan } from '../eval/metrics.js';
import { observableFor, pairsSeeingFor, scenarioScoring } from '../eval/observable.js';
import { nearPairs } from '../eval/near-pairs.js';
import { Rng } from '../sim/rng.js';
import { loadScenario } from '../sim/scenario.js';
import { REPO } from './helpers/cli.js';

const scan = (k: number, objects: [string, number][], tracks: [string, number][]): [TruthScan, TrackScan] => [
  { t_ns: BigInt(k) * 40_000_000n, objects: objects.map(([id, x]) => ({ id, position: [x, 0, 100] })) },
  { t_ns: BigInt(k) * 40_000_000n + 1000n, tracks: tracks.map(([id, x]) => ({ id, status: 'confirmed', position: [x, 0.3, 100] })) },
];

function run(scans: [TruthScan, TrackScan][]) {
  return evaluate(scans.map((s) => s[0]), scans.map((s) => s[1]));
}

describe('tracking metrics', () => {
  it('finds exactly the pairs within a distance that brute force finds, in the same order', () => {
    const rng = new Rng(5);
    const cloud = (n: number) => Array.from({ length: n }, () => [rng.uniform(-20, 20), rng.uniform(-20, 20), rng.uniform(-3, 3)] as [number, number, number]);
    const [a, b] = [cloud(300), cloud(250)];
    for (const r of [0.5, 2, 7.5]) {
      const brute: [number, number][] = [];
      a.forEach((p, i) => b.forEach((q, j) => Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) <= r && brute.push([i, j])));
      assert.deepEqual(nearPairs(a, b, r), brute, `r = ${r}`);
      assert.ok(brute.length > 0);
    }
  });

  it('scores the detection rate over what the rig could see apart from the raw one', () => {
    const q = loadScenario('quick');
    const observable = observableFor(q);
    // A 0.7 m drone in the middle of quick's airspace is seen; a 5 cm one 3 km away is not.
    assert.equal(observable([0, 100, 100], 'drone', 0.7), true);
    assert.equal(observable([0, 3000, 100], 'drone', 0.05), false);
    // At dusk2's dark sky a drone at (25, 75, 100) shows to both thermal cameras (Pd > 0.9) and
    // to neither mono one (Pd < 0.05): fusion forwards thermal-only detections, so both pairs see it.
    assert.equal(observableFor(loadScenario('dusk2'))([25, 75, 100], 'drone', 0.7), true);
    assert.equal(observableFor(loadScenario('dusk2'))([300, 400, 100], 'drone', 0.3), false);
    const truth: TruthScan[] = Array.from({ length: 4 }, (_, k) => ({ t_ns: BigInt(k) * 40_000_000n, objects: [{ id: 'big', kind: 'drone', size_m: 0.7, position: [0, 100, 100] }, { id: 'speck', kind: 'drone', size_m: 0.05, position: [0, 3000, 100] }] }));
    const tracks: TrackScan[] = truth.map((t) => ({ t_ns: t.t_ns, tracks: [{ id: 't1', status: 'confirmed', position: [0, 100, 100] }] }));
    const r = evaluate(truth, tracks, { ...DEFAULT_EVAL_OPTIONS, observable });
    assert.equal(r.detection_rate, 0.5);
    assert.deepEqual(r.observable, { share: 0.5, detection_rate: 1, mota: 1, idf1: 1, id_switches: 0, false_track_rate: 0 });
  });

  it('says how many camera pairs could see each target-frame that no track covered', () => {
    const q = loadScenario('quick');
    const seeing = pairsSeeingFor(q);
    const [both, one, none]: [[number, number, number], [number, number, number], [number, number, number]] = [[0, 100, 100], [-200, 200, 100], [0, 3000, 100]];
    assert.deepEqual([seeing(both, 'drone', 0.7), seeing(one, 'drone', 0.7), seeing(none, 'drone', 0.05)], [2, 1, 0]);
    assert.equal(seeing(both, 'drone', 0.7, 1), 1, 'stops once enough pairs see it');
    const truth: TruthScan[] = Array.from({ length: 3 }, (_, k) => ({ t_ns: BigInt(k) * 40_000_000n, objects: [{ id: 'both', kind: 'drone', size_m: 0.7, position: both }, { id: 'one', kind: 'drone', size_m: 0.7, position: one }, { id: 'none', kind: 'drone', size_m: 0.05, position: none }] }));
    // The tracker covers the object both pairs see in the first scan only.
    const tracks: TrackScan[] = truth.map((t, k) => ({ t_ns: t.t_ns, tracks: k === 0 ? [{ id: 't1', status: 'confirmed', position: both }] : [] }));
    const r = evaluate(truth, tracks, { ...DEFAULT_EVAL_OPTIONS, ...scenarioScoring(q) });
    assert.deepEqual(r.observable!.missed_by_pairs, { none: 3, one: 3, two_or_more: 2 });
    assert.equal(evaluate(truth, tracks, { ...DEFAULT_EVAL_OPTIONS, observable: observableFor(q) }).observable!.missed_by_pairs, undefined, 'only when asked');
  });

  it('over observable objects, a track on an unobservable one is set aside and a phantom still counts', () => {
    const observable = observableFor(loadScenario('quick'));
    const truth: TruthScan[] = Array.from({ length: 4 }, (_, k) => ({ t_ns: BigInt(k) * 40_000_000n, objects: [{ id: 'big', kind: 'drone', size_m: 0.7, position: [0, 100, 100] }, { id: 'speck', kind: 'drone', size_m: 0.05, position: [0, 3000, 100] }] }));
    const tracks: TrackScan[] = truth.map((t, k) => ({
      t_ns: t.t_ns,
      tracks: [
        { id: 't1', status: 'confirmed', position: [0, 100, 100] },
        { id: 't2', status: 'coasting', position: [0.5, 3000, 100] },
        ...(k === 0 ? [{ id: 'ghost', status: 'confirmed', position: [50, 50, 50] as [number, number, number] }] : []),
      ],
    }));
    const r = evaluate(truth, tracks, { ...DEFAULT_EVAL_OPTIONS, observable });
    assert.equal(r.detection_rate, 1);
    // 4 observed frames, 1 false track in one scan: MOTA 1 − 1/4; false-track rate 1 of 5.
    assert.deepEqual(r.observable, { share: 0.5, detection_rate: 1, mota: 0.75, idf1: r.observable!.idf1, id_switches: 0, false_track_rate: 0.2 });
    assert.ok(r.observable!.idf1 < 1);
  });

  it('perfect tracks: MOTA 1, IDF1 1, no switches, error as offset', () => {
    const r = run(Array.from({ length: 10 }, (_, k) => scan(k, [['a', k], ['b', 50 - k]], [['t1', k], ['t2', 50 - k]])));
    assert.deepEqual([r.mota, r.idf1, r.id_switches, r.fragmentations, r.detection_rate, r.false_track_rate], [1, 1, 0, 0, 1, 0]);
    assert.ok(Math.abs(r.motp_m - 0.3) < 1e-9 && Math.abs(r.rmse_m - 0.3) < 1e-9);
  });

  it('counts an identity switch, a fragmentation, misses and false tracks as CLEAR MOT defines them', () => {
    const scans: [TruthScan, TrackScan][] = [];
    for (let k = 0; k < 10; k++) {
      const tid = k < 5 ? 't1' : 't9'; // the track following `a` changes identity at k = 5
      const tracks: [string, number][] = k === 3 ? [] : [[tid, k]]; // and is missing at k = 3
      if (k === 7) tracks.push(['ghost', 30]);
      scans.push(scan(k, [['a', k]], tracks));
    }
    const r = run(scans);
    assert.equal(r.id_switches, 1);
    assert.equal(r.fragmentations, 1);
    // 10 object-frames: 1 miss, 1 false track, 1 switch
    assert.ok(Math.abs(r.mota - (1 - 3 / 10)) < 1e-12, `MOTA ${r.mota}`);
    // IDF1: a↔t9 5 frames (t1 4 frames); 10 truth frames, 10 track frames → 2·5/(10 + 10)
    assert.ok(Math.abs(r.idf1 - 0.5) < 1e-12, `IDF1 ${r.idf1}`);
    assert.ok(Math.abs(r.false_track_rate - 1 / 10) < 1e-12);
  });

  it('reports latency from exposure to the tracks message', () => {
    const scans = Array.from({ length: 100 }, (_, k) => scan(k, [['a', k]], [['t1', k]]));
    scans.forEach(([, t], k) => (t.published_ns = t.t_ns + BigInt(k + 1) * 1_000_000n));
    const r = evaluate(scans.map((s) => s[0]), scans.map((s) => s[1]));
    assert.deepEqual(r.latency_ms, { p50: 50, p99: 99, over_50ms: 50, steady: null }, 'a 4 s run has no steady part');
    // 8 s of scans 40 ms apart, the k-th published k + 1 ms after its exposure: from 5 s on
    // (k ≥ 125) the latencies are 126–200 ms.
    const long = Array.from({ length: 200 }, (_, k) => scan(k, [['a', k]], [['t1', k]]));
    long.forEach(([, t], k) => (t.published_ns = t.t_ns + BigInt(k + 1) * 1_000_000n));
    const l = evaluate(long.map((s) => s[0]), long.map((s) => s[1]));
    assert.deepEqual(l.latency_ms, { p50: 100, p99: 198, over_50ms: 150, steady: { from_s: 5, p50: 163, p99: 200 } });
  });

  it('says whether the reported covariances are honest: NEES averages 3 with 5 % beyond 7.81 when errors follow them, more when they are overconfident', () => {
    const rng = new Rng(11);
    const sd = [0.1, 0.2, 0.4];
    /** 2000 scans of one object tracked with errors drawn from `sd`, reporting `sd` times `claim`; `as` base64 or bytes. */
    const score = (claim: number, as: 'base64' | 'bytes') => {
      const P = new Float64Array(36);
      sd.forEach((s, a) => (P[a * 7] = (s * claim) ** 2));
      const bytes = new Uint8Array(P.buffer.slice(0));
      const covariance = as === 'base64' ? Buffer.from(bytes).toString('base64') : bytes;
      const truth: TruthScan[] = [];
      const tracks: TrackScan[] = [];
      for (let k = 0; k < 2000; k++) {
        const t_ns = BigInt(k) * 40_000_000n;
        truth.push({ t_ns, objects: [{ id: 'd', position: [k, 0, 100] }] });
        tracks.push({ t_ns, tracks: [{ id: 't1', status: 'confirmed', position: [k + sd[0]! * rng.normal(), sd[1]! * rng.normal(), 100 + sd[2]! * rng.normal()], covariance }] });
      }
      return evaluate(truth, tracks).nees!;
    };
    const honest = score(1, 'base64');
    assert.equal(honest.frames, 2000);
    assert.ok(Math.abs(honest.mean - 3) < 0.25 && Math.abs(honest.outside_95 - 0.05) < 0.015, JSON.stringify(honest));
    const overconfident = score(0.5, 'bytes');
    assert.ok(overconfident.mean > 10 && overconfident.outside_95 > 0.4, JSON.stringify(overconfident));
    assert.equal(run([scan(0, [['a', 0]], [['t', 0]])]).nees, null, 'no covariance, no figure');
  });

  it('GOSPA charges c^p/2 for a missed object (α = 2)', () => {
    const r = run([scan(0, [['a', 0]], [])]);
    assert.ok(Math.abs(r.gospa.mean - Math.sqrt(25 / 2)) < 1e-12, `GOSPA ${r.gospa.mean}`);
  });
});

describe('MOTChallenge scoring against py-motmetrics reference values', () => {
  // The shared reference data sits beside the repository (../shared/data).
  const DATA = [join(REPO, '../shared/data/motchallenge'), '/work/shared/data/motchallenge'].find((d) => existsSync(d)) ?? 'missing';
  // From ../shared/data/motchallenge/README.md (py-motmetrics' own test suite), tolerance 1e-3.
  const expected = {
    'TUD-Campus': { idf1: 0.557659, idp: 0.72973, idr: 0.451253, recall: 0.582173, precision: 0.941441, unique_objects: 8, mostly_tracked: 1, partially_tracked: 6, mostly_lost: 1, false_positives: 13, misses: 150, switches: 7, fragmentations: 7, mota: 0.526462, motp: 0.277201 },
    'TUD-Stadtmitte': { idf1: 0.644619, idp: 0.81976, idr: 0.531142, recall: 0.608997, precision: 0.93992, unique_objects: 10, mostly_tracked: 5, partially_tracked: 4, mostly_lost: 1, false_positives: 45, misses: 452, switches: 7, fragmentations: 6, mota: 0.564014, motp: 0.345904 },
    both: { idf1: 0.624296, idp: 0.799176, idr: 0.512211, recall: 0.60264, precision: 0.940268, unique_objects: 18, mostly_tracked: 6, partially_tracked: 10, mostly_lost: 2, false_positives: 58, misses: 602, switches: 14, fragmentations: 13, mota: 0.555116, motp: 0.330177 },
  };
  const seq = (name: string) => ({ gt: `${DATA}/${name}/gt.txt`, test: `${DATA}/${name}/test.txt` });

  for (const [name, want] of Object.entries(expected)) {
    it(`reproduces every metric of ${name}`, async function () {
      if (!existsSync(DATA)) this.skip();
      const { evaluateMot } = await import('../eval/motchallenge.js');
      const r = evaluateMot(name === 'both' ? [seq('TUD-Campus'), seq('TUD-Stadtmitte')] : [seq(name)]) as unknown as Record<string, number>;
      for (const [k, v] of Object.entries(want)) assert.ok(Math.abs(r[k]! - v) <= 1e-3, `${name} ${k}: ${r[k]} vs ${v}`);
    });
  }
});

describe('Cramér–Rao bound of a 3D position', () => {
  it('needs two views, shrinks with a third, and grows with range', async () => {
    const { crlbFor } = await import('../eval/crlb.js');
    const { parseScenario } = await import('../sim/scenario.js');
    const cam = (id: string, position: number[]) => ({ id, pair: id, band: 'mono', resolution: [1280, 720], fov_deg: 40, position, look_at: [0, 500, 100] });
    const base = { name: 'b', seed: 1, duration_s: 1, fps: 10, mode: 'detections', site: { lat: 0, lon: 0, alt: 0 }, targets: [] };
    const two = crlbFor(parseScenario({ ...base, cameras: [cam('a', [-300, 0, 2]), cam('b', [300, 0, 2])] }));
    const three = crlbFor(parseScenario({ ...base, cameras: [cam('a', [-300, 0, 2]), cam('b', [300, 0, 2]), cam('c', [0, 0, 300])] }));
    const one = crlbFor(parseScenario({ ...base, cameras: [cam('a', [-300, 0, 2])] }));
    const near = two([0, 500, 100], 'drone', 0.6)!;
    assert.equal(one([0, 500, 100], 'drone', 0.6), undefined);
    assert.ok(near > 0 && three([0, 500, 100], 'drone', 0.6)! < near);
    assert.ok(two([0, 800, 100], 'drone', 0.6)! > near);
  });
});
