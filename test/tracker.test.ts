import assert from 'node:assert/strict';
import { immStart, immWeightedUpdate } from '../actors/tracker/imm.js';
import { gateClusters, jpdaCluster } from '../actors/tracker/jpda.js';
import { cvModel, gateDistance, innovation, mahalanobis2, predict, update } from '../actors/tracker/kalman.js';
import { DEFAULT_TRACKER_OPTIONS, type Measurement, position, Tracker, type TrackerOptions } from '../actors/tracker/tracker.js';
import { add, mat, mul, transpose } from '../geometry/matrix.js';
import { Rng } from '../sim/rng.js';
import { TrackerStage } from '../actors/tracker/tracker-stage.js';
import { f64ToBin } from '../bus/codec.js';
import { PairCoverage } from '../actors/tracker/coverage.js';
import { rigOf } from '../sim/rig.js';
import { parseScenario } from '../sim/scenario.js';
import { trackerThroughput } from '../bench/tracker-throughput.js';

type Point = [number, number, number];

/**
 * How many track IDs follow one drone (within 1 m) through `scans` scans at `fps`, measured at
 * 5 cm noise by `views` views, except in the scans `lost` says bring no point of it.
 */
function idsAlong(options: Partial<TrackerOptions>, o: { fps: number; scans: number; seed: number; views: number; truth: (t: number) => Point; lost: (k: number, t: number) => boolean }): number {
  const cov = [0.003, 0, 0, 0, 0.003, 0, 0, 0, 0.003];
  const rng = new Rng(o.seed);
  const tracker = new Tracker(options);
  const ids = new Set<string>();
  for (let k = 0; k < o.scans; k++) {
    const t = k / o.fps;
    const p = o.truth(t);
    tracker.step(t, o.lost(k, t) ? [] : [{ position: p.map((v) => v + 0.05 * rng.normal()) as Point, covariance: cov, views: o.views }]);
    for (const x of tracker.tracks.filter((x) => x.status !== 'tentative')) if (Math.hypot(...position(x).map((v, a) => v - p[a]!)) < 1) ids.add(x.id);
  }
  return ids.size;
}

const close = (a: number[], b: number[], tol: number) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol, `${v} vs ${b[i]}`));

describe('tracker', () => {
  it('Kalman predict is F·P·Fᵀ + Q, and an update shrinks the covariance toward the measurement', () => {
    const P = mat(6, 6, Array.from({ length: 36 }, (_, k) => (k % 7 === 0 ? 2 + (k % 5) : 0.1)));
    const g = { x: mat(6, 1, [1, 2, 3, 4, 5, 6]), P };
    const { F, Q } = cvModel(0.04, 9);
    const p = predict(g, 0.04, 9);
    close(p.P.v, add(mul(mul(F, P), transpose(F)), Q).v, 1e-12);
    close(p.x.v, [1.16, 2.2, 3.24, 4, 5, 6], 1e-12);
    const u = update(p, mat(3, 1, [1.2, 2.2, 3.3]), mat(3, 3, [0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01]))!;
    assert.ok(u.P.v[0]! < p.P.v[0]! && Math.abs(u.x.v[0]! - 1.2) < Math.abs(p.x.v[0]! - 1.2));
  });

  it('the gate\'s distance is the innovation\'s Mahalanobis distance and det S to the last bit, and refuses a singular S as it does', () => {
    const rng = new Rng(5);
    for (let k = 0; k < 200; k++) {
      // A random covariance A·Aᵀ (asymmetric by rounding in half the cases), and a measurement's.
      const A = mat(6, 6, Array.from({ length: 36 }, () => rng.normal()));
      const P = add(mul(A, transpose(A)), mat(6, 6, Array.from({ length: 36 }, (_, i) => (k % 2 && i === 1 ? 1e-9 : 0))));
      const B = mat(3, 3, Array.from({ length: 9 }, () => 0.1 * rng.normal()));
      const R = mul(B, transpose(B));
      const g = { x: mat(6, 1, Array.from({ length: 6 }, () => 10 * rng.normal())), P };
      const z = Array.from({ length: 3 }, () => 10 * rng.normal());
      const inn = innovation(g, mat(3, 1, z), R)!;
      const fast = gateDistance(g, z, R.v)!;
      assert.equal(fast.d2, mahalanobis2(inn.nu, inn.Sinv));
      assert.equal(fast.detS, inn.detS);
    }
    const flat = { x: mat(6, 1), P: mat(6, 6) };
    assert.equal(gateDistance(flat, [1, 2, 3], new Array(9).fill(0)), undefined);
    assert.equal(innovation(flat, mat(3, 1, [1, 2, 3]), mat(3, 3)), undefined);
  });

  for (const association of ['gnn', 'jpda'] as const) it(`keeps one confirmed track per target through crossings and clutter, with stable identities (${association})`, () => {
    const rng = new Rng(17);
    const tracker = new Tracker({ association });
    // Three drones; two cross at t = 4 s with 3 m of vertical separation.
    const truth = (t: number): [number, number, number][] => [
      [-40 + 10 * t, 0, 100],
      [40 - 10 * t, 0, 103],
      [0, -50 + 5 * t, 150 + 2 * t],
    ];
    const owner = new Map<number, string>();
    let switches = 0;
    let falseConfirmed = 0;
    for (let k = 0; k < 200; k++) {
      const t = k * 0.04;
      const sigma = 0.3;
      const ms = truth(t).map((p) => ({ position: p.map((v) => v + sigma * rng.normal()) as [number, number, number], covariance: [sigma ** 2, 0, 0, 0, sigma ** 2, 0, 0, 0, sigma ** 2], views: 2 }));
      for (let c = rng.poisson(1.5); c > 0; c--) ms.push({ position: [rng.uniform(-100, 100), rng.uniform(-100, 100), rng.uniform(50, 250)], covariance: [1, 0, 0, 0, 1, 0, 0, 0, 1], views: 2 });
      tracker.step(t, ms);
      if (k < 10) continue;
      const confirmed = tracker.tracks.filter((tr) => tr.status !== 'tentative');
      truth(t).forEach((p, i) => {
        const near = confirmed.find((tr) => Math.hypot(...position(tr).map((v, a) => v - p[a]!)) < 2);
        assert.ok(near, `target ${i} has no confirmed track at t=${t.toFixed(2)}`);
        if (owner.has(i) && owner.get(i) !== near.id) switches++;
        owner.set(i, near.id);
      });
      falseConfirmed = Math.max(falseConfirmed, confirmed.length - 3);
    }
    assert.equal(switches, 0, 'no identity switch');
    assert.ok(falseConfirmed <= 1, `${falseConfirmed} confirmed tracks on clutter at once`);
  });

  it('JPDA: association probabilities are the joint events\' shares; a track takes every gated measurement in proportion', () => {
    const o = { pd: 0.9, pg: 1, clutterDensity: 0.01, maxEvents: 100 };
    // One track, two measurements: β_j = Pd g_j/λ over (1 − Pd Pg) + Σ Pd g_k/λ.
    const [one] = jpdaCluster([[{ m: 0, lik: 0.02 }, { m: 1, lik: 0.01 }]], o)!;
    const e = [0.9 * 2, 0.9 * 1];
    const norm = 0.1 + e[0]! + e[1]!;
    assert.ok(Math.abs(one!.beta[0]!.p - e[0]! / norm) < 1e-12 && Math.abs(one!.beta[1]!.p - e[1]! / norm) < 1e-12 && Math.abs(one!.none - 0.1 / norm) < 1e-12);
    // Two tracks, one measurement: events {–,–}, {t0→m}, {t1→m}.
    const two = jpdaCluster([[{ m: 0, lik: 0.03 }], [{ m: 0, lik: 0.01 }]], o)!;
    const w = [0.1 * 0.1, 0.9 * 3 * 0.1, 0.1 * 0.9 * 1];
    const sum = w[0]! + w[1]! + w[2]!;
    assert.ok(Math.abs(two[0]!.beta[0]!.p - w[1]! / sum) < 1e-12 && Math.abs(two[1]!.beta[0]!.p - w[2]! / sum) < 1e-12);
    assert.ok(Math.abs(two[0]!.none - (w[0]! + w[2]!) / sum) < 1e-12);
    // Too many joint events: the caller falls back to the assignment.
    const many = Array.from({ length: 8 }, () => Array.from({ length: 8 }, (_, m) => ({ m, lik: 1 })));
    assert.equal(jpdaCluster(many, o), undefined);
    assert.deepEqual(gateClusters([[{ m: 0, lik: 1 }], [{ m: 1, lik: 1 }], [{ m: 1, lik: 1 }, { m: 2, lik: 1 }], []]), [[0], [1, 2], [3]]);

    // A certain single measurement is the Kalman update; two equally likely ones pull to their middle and widen the covariance.
    const P = mat(6, 6);
    for (let i = 0; i < 6; i++) P.v[i * 7] = i < 3 ? 1 : 4;
    const g = { x: mat(6, 1, [0, 0, 100, 1, 0, 0]), P };
    const R = mat(3, 3, [0.25, 0, 0, 0, 0.25, 0, 0, 0, 0.25]);
    const s = immStart(g, { models: [{ q: 1 }], stayPerSecond: 1 });
    const z = (x: number) => mat(3, 1, [x, 0, 100]);
    const kf = update(g, z(1), R)!;
    const certain = immWeightedUpdate(s, [{ z: z(1), R, w: 1 }], 0).models[0]!;
    kf.x.v.forEach((v, i) => assert.ok(Math.abs(v - certain.x.v[i]!) < 1e-12));
    kf.P.v.forEach((v, i) => assert.ok(Math.abs(v - certain.P.v[i]!) < 1e-12));
    const split = immWeightedUpdate(s, [{ z: z(1), R, w: 0.5 }, { z: z(-1), R, w: 0.5 }], 0).models[0]!;
    assert.ok(Math.abs(split.x.v[0]!) < 1e-12);
    assert.ok(split.P.v[0]! > kf.P.v[0]! * 1.5, 'the spread of the hypotheses adds to the covariance');
    assert.throws(() => new Tracker({ association: 'mht' as 'gnn' }), /options\.association: expected "gnn" or "jpda", got "mht"/);
    assert.throws(() => new Tracker({ jpda: { pd: 1.5 } as never }), /options\.jpda\.pd: expected a probability in \(0, 1\], got 1\.5/);
  });

  it('keeps its identity through a corner sharper than the motion model allows, leaving no coasting phantom', () => {
    const cov = [0.003, 0, 0, 0, 0.003, 0, 0, 0, 0.003];
    const rng = new Rng(4);
    // 16 m/s north, then at t = 2 s an instant turn to 10 m/s east and down (a waypoint corner).
    const truth = (t: number): [number, number, number] => (t < 2 ? [0, 16 * t, 100] : [8 * (t - 2), 32 + 3 * (t - 2), 100 - 5 * (t - 2)]);
    const run = (reacquireM: number) => {
      const tracker = new Tracker({ reacquireM });
      const ids = new Set<string>();
      let phantom = 0;
      for (let k = 0; k < 100; k++) {
        const t = k * 0.04;
        const p = truth(t);
        tracker.step(t, [{ position: p.map((v) => v + 0.05 * rng.normal()) as [number, number, number], covariance: cov, views: 3 }]);
        const shown = tracker.tracks.filter((x) => x.status !== 'tentative');
        for (const x of shown) {
          if (Math.hypot(...position(x).map((v, a) => v - p[a]!)) < 1) ids.add(x.id);
          else phantom++;
        }
      }
      return { ids: ids.size, phantom };
    };
    assert.deepEqual(run(3), { ids: 1, phantom: 0 });
    const without = run(0);
    assert.ok(without.ids === 2 && without.phantom > 10, `without it: a new track and a coasting phantom (${JSON.stringify(without)})`);
  });

  it('at 60 scans a second a corner that costs it a few scans keeps its identity too (reacquisition in seconds)', () => {
    const truth = (t: number): Point => (t < 2 ? [0, 16 * t, 100] : [8 * (t - 2), 32 + 3 * (t - 2), 100 - 5 * (t - 2)]);
    // The two scans after the corner bring no point of it (its views fell out of the gates).
    const run = (reacquireS: number) => idsAlong({ reacquireS, reacquireScans: 1 }, { fps: 60, scans: 240, seed: 6, views: 3, truth, lost: (_k, t) => t >= 2 && t < 2 + 2.5 / 60 });
    assert.equal(run(DEFAULT_TRACKER_OPTIONS.reacquireS), 1);
    assert.equal(run(0), 2, 'reacquiring on the first missed scan only, a new track takes over');
  });

  it('at 5 scans a second a corner where a detection is missed keeps its identity too', () => {
    // A scan is 0.2 s: the turn takes the drone 3.4 m off the prediction in one, and here the
    // first scan after it brings nothing (a missed detection), the next a point 7 m off.
    const truth = (t: number): Point => (t < 4 ? [0, 12.5 * t, 50 + 10 * t] : [3.3 * (t - 4), 50 + 6.7 * (t - 4), 90 - 5.8 * (t - 4)]);
    const run = (reacquireScans: number) => idsAlong({ reacquireScans }, { fps: 5, scans: 50, seed: 7, views: 2, truth, lost: (k) => k === 21 });
    assert.equal(run(DEFAULT_TRACKER_OPTIONS.reacquireScans), 1);
    assert.equal(run(1), 2, 'reacquiring on the first missed scan only, a new track takes over');
  });

  it('at 15 scans a second a climb that slows at once, unseen for two scans, keeps its identity', () => {
    // coast3's climbing drone: 16 m/s up, then 6 m/s from one frame to the next (a waypoint
    // corner), and no detection in the two scans after it: 2 m off the prediction in the third.
    const truth = (t: number): Point => [0, 400 + 2 * t, t < 3 ? 40 + 16 * t : 88 + 6 * (t - 3)];
    const run = (reacquireScans: number) => idsAlong({ reacquireScans }, { fps: 15, scans: 90, seed: 11, views: 2, truth, lost: (k) => k === 46 || k === 47 });
    assert.equal(run(DEFAULT_TRACKER_OPTIONS.reacquireScans), 1);
    assert.equal(run(2), 2, 'reacquiring in the first two missed scans only, a new track takes over');
  });

  it('in a swarm, a drone that misses a scan is not dragged to a one-off ghost point beside it; round a corner it keeps its identity', () => {
    const cov = [0.003, 0, 0, 0, 0.003, 0, 0, 0, 0.003];
    // Five drones 4 m apart flying east at 6 m/s; drone 0 is the one watched.
    const truth = (t: number, turn: boolean): Point[] =>
      [0, 1, 2, 3, 4].map((i): Point => (i === 0 && turn && t >= 2 ? [12 + 2 * (t - 2), -14 * (t - 2), 100] : [6 * t, 4 * i, 100]));
    const run = (options: Partial<TrackerOptions>, turn: boolean) => {
      const rng = new Rng(21);
      const tracker = new Tracker(options);
      const ids = new Set<string>();
      let worst = 0;
      for (let k = 0; k < 100; k++) {
        const t = k * 0.04;
        const ps = truth(t, turn);
        const ms: Measurement[] = ps.map((p) => ({ position: p.map((v) => v + 0.05 * rng.normal()) as Point, covariance: cov, views: 3 }));
        // At t = 2 s drone 0 is not detected, and two neighbours' rays cross 1.4 m from it instead.
        if (!turn && k === 50) ms[0] = { position: [ps[0]![0] + 1.2, ps[0]![1] + 0.7, ps[0]![2] - 0.2], covariance: cov, views: 2 };
        tracker.step(t, ms);
        if (k < 10) continue;
        const near = tracker.tracks.filter((x) => x.status !== 'tentative').find((x) => Math.hypot(...position(x).map((v, a) => v - ps[0]![a]!)) < 2);
        if (near) ids.add(near.id);
        worst = Math.max(worst, near ? Math.hypot(...position(near).map((v, a) => v - ps[0]![a]!)) : Infinity);
      }
      return { ids: ids.size, worst };
    };
    const ghost = run({}, false);
    assert.equal(ghost.ids, 1);
    assert.ok(ghost.worst < 0.5, `the track stayed on the drone: ${ghost.worst} m at worst`);
    const eager = run({ reacquireHits: 1 }, false);
    assert.ok(eager.ids > 1 || eager.worst > 1, `taking the ghost at once drags the track off or ends it: ${JSON.stringify(eager)}`);
    const corner = run({}, true);
    assert.equal(corner.ids, 1, 'round a corner (16 m/s of velocity change in one scan) the identity carries on');
    // Drone 0 leaves the cameras' view at t = 2 s just as an untracked drone shows 2.5 m beside
    // where it would be: the newcomer is not one path with it, so it gets a track of its own.
    const newcomer = (options: Partial<TrackerOptions>) => {
      const rng = new Rng(23);
      const tracker = new Tracker(options);
      let before = '';
      let after = '';
      for (let k = 0; k < 100; k++) {
        const t = k * 0.04;
        const ps = truth(t, false);
        const fresh: Point = [6 * t + 2, -2 + 0.5 * (t - 2), 100 - 0.5];
        const ms: Measurement[] = ps.map((p) => ({ position: p.map((v) => v + 0.05 * rng.normal()) as Point, covariance: cov, views: 3 }));
        if (k >= 50) ms[0] = { position: fresh.map((v) => v + 0.05 * rng.normal()) as Point, covariance: cov, views: 3 };
        tracker.step(t, ms);
        const on = (p: Point) => tracker.tracks.find((x) => x.status !== 'tentative' && Math.hypot(...position(x).map((v, a) => v - p[a]!)) < 0.5)?.id ?? '';
        if (k === 49) before = on(ps[0]!);
        if (k === 99) after = on(fresh);
      }
      return { before, after };
    };
    const n = newcomer({});
    assert.ok(n.before !== '' && n.after !== '' && n.after !== n.before, `drone 0's track ${n.before}, the newcomer's ${n.after}`);
    assert.throws(() => new Tracker({ reacquireHits: 0 }), /options\.reacquireHits: expected an integer ≥ 1, got 0/);
  });

  it('a scan of one pair\'s views (the others missing that instant) misses no track; an empty scan of two pairs does', () => {
    const meas = (k: number, pairs: string[], point: boolean) => {
      const values = point ? [5 * k * 0.04, 0, 100, 0.003, 0, 0, 0, 0.003, 0, 0, 0, 0.003, 2, 2] : [];
      return { t_ns: 1_000_000_000n + BigInt(k * 40) * 1_000_000n, count: point ? 1 : 0, pairs, points: f64ToBin(values) };
    };
    const run = (gapPairs: string[]) => {
      const stage = new TrackerStage();
      for (let k = 0; k < 10; k++) stage.step(meas(k, ['a', 'b'], true), () => 0n);
      let last;
      for (let k = 10; k < 14; k++) last = stage.step(meas(k, gapPairs, false), () => 0n);
      return last!.tracks.tracks.map((t) => t.status);
    };
    assert.deepEqual(run(['a']), ['confirmed'], 'one pair alone placed nothing: nothing was missed');
    assert.deepEqual(run(['a', 'b']), ['coasting']);
  });

  it('a scan missing the pairs that see a track misses it not: the track is held while they are away, for at most maxHeldS; a target leaving the rig is missed', () => {
    // Two pairs (a, b) watch one patch of sky 1 km out, two others (c, d) another 600 m east of it.
    const cam = (pair: string, x: number, lookX: number) => ({ id: `${pair}-mono`, pair, band: 'mono', resolution: [1000, 1000], fov_deg: 10, position: [x, 0, 0], look_at: [lookX, 1000, 200] });
    const rig = rigOf(parseScenario({ name: 'patches', seed: 1, duration_s: 10, fps: 25, mode: 'detections', site: { lat: 0, lon: 0, alt: 0 }, cameras: [cam('a', -400, -300), cam('b', -200, -300), cam('c', 200, 300), cam('d', 400, 300)], targets: [{ id: 'x', kind: 'drone', size_m: 0.5, waypoints: [[0, 0, 1000, 200]] }] }));
    /** Scan k (25 per second): a drone flying east over each patch, measured when its pairs are there. */
    const meas = (k: number, pairs: string[], eastX = 300 + 2 * k * 0.04) => {
      const values: number[] = [];
      const point = (x: number) => values.push(x, 1000, 200, 0.003, 0, 0, 0, 0.003, 0, 0, 0, 0.003, 2, 2);
      if (pairs.includes('a')) point(-300 + 2 * k * 0.04);
      if (pairs.includes('c')) point(eastX);
      return { t_ns: 1_000_000_000n + BigInt(k * 40) * 1_000_000n, count: values.length / 14, pairs, points: f64ToBin(values) };
    };
    const all = ['a', 'b', 'c', 'd'];
    /** The tracks' ids after 2 s with every pair, `away` scans without c and d, and 1 s with them again. */
    const run = (coverage: PairCoverage | undefined, away: number, options: Partial<TrackerOptions> = {}) => {
      const stage = new TrackerStage(options, coverage);
      let k = 0;
      const ids = () => stage.tracker.tracks.filter((t) => t.status !== 'tentative').map((t) => t.id).sort();
      for (; k < 50; k++) stage.step(meas(k, all), () => 0n);
      const before = ids();
      for (const end = k + away; k < end; k++) stage.step(meas(k, ['a', 'b']), () => 0n);
      for (const end = k + 25; k < end; k++) stage.step(meas(k, all), () => 0n);
      return { before, after: ids() };
    };
    const coverage = new PairCoverage(rig);
    const held = run(coverage, 50);
    assert.equal(held.before.length, 2);
    assert.deepEqual(held.after, held.before, 'c and d away for 2 s: the east drone keeps its track');
    const blindToPairs = run(undefined, 50);
    assert.ok(!blindToPairs.after.includes(blindToPairs.before[1]!), `without the rig, the east track coasted out after maxCoastS: ${blindToPairs.before} → ${blindToPairs.after}`);
    const gone = run(coverage, 50, { maxHeldS: 1.5 });
    assert.ok(!gone.after.includes(gone.before[1]!), `held past maxHeldS, it ends: ${gone.before} → ${gone.after}`);
    // A fast drone predicted out of every camera's frame while c and d are away (≈ 2 s on) is missed as before.
    const stage = new TrackerStage({}, coverage);
    for (let k = 0; k < 50; k++) stage.step(meas(k, all, 220 + 40 * k * 0.04), () => 0n);
    const east = stage.tracker.tracks.find((t) => position(t)[0] > 0)!;
    for (let k = 50; k < 150; k++) stage.step(meas(k, ['a', 'b']), () => 0n);
    assert.ok(!stage.tracker.tracks.some((t) => t.id === east.id), 'gone from the rig: lost within maxCoastS of leaving it');
    assert.equal(coverage.observer(all), undefined, 'every pair there: no restriction');
    assert.throws(() => new Tracker({ maxHeldS: 0 }), /options\.maxHeldS: expected a number > 0, got 0/);
  });

  it('a scan of one pair that sees a track looks for it if confirmed (its ray could hit it), not if tentative (only two pairs\' point could): a camera out of step neither stalls confirmation nor holds what its pair missed', () => {
    const cam = (pair: string, x: number) => ({ id: `${pair}-mono`, pair, band: 'mono', resolution: [1000, 1000], fov_deg: 10, position: [x, 0, 0], look_at: [0, 1000, 200] });
    const rig = rigOf(parseScenario({ name: 'two', seed: 1, duration_s: 10, fps: 25, mode: 'detections', site: { lat: 0, lon: 0, alt: 0 }, cameras: [cam('a', -300), cam('b', 300)], targets: [{ id: 'x', kind: 'drone', size_m: 0.5, waypoints: [[0, 0, 1000, 200]] }] }));
    const coverage = new PairCoverage(rig);
    const scan = (k: number, pairs: string[], point: boolean) => ({ t_ns: 1_000_000_000n + BigInt(k * 20) * 1_000_000n, count: point ? 1 : 0, pairs, points: f64ToBin(point ? [2 * k * 0.02, 1000, 200, 0.003, 0, 0, 0, 0.003, 0, 0, 0, 0.003, 2, 2] : []) });
    // b's clock out of step: every other scan is a's views alone, which place no point.
    const stage = new TrackerStage({}, coverage);
    const statuses = () => stage.tracker.tracks.map((t) => t.status);
    for (let k = 0; k < 11; k++) stage.step(k % 2 ? scan(k, ['a'], false) : scan(k, ['a', 'b'], true), () => 0n);
    assert.deepEqual(statuses(), ['confirmed'], 'confirmed by the two-pair scans alone');
    assert.ok(coverage.observer(['a'])!([0, 1000, 200], false) && !coverage.observer(['a'])!([0, 1000, 200], true));
    // a alone, brings no ray of it for 1.5 s (maxCoastS 1): a looked and missed it — lost, not held for maxHeldS.
    for (let k = 11; k < 86; k++) stage.step(scan(k, ['a'], false), () => 0n);
    assert.deepEqual(statuses(), [], 'missed by the pair that looks');
  });

  it('keeps one track when the views of one object split into two measurements', () => {
    const tracker = new Tracker();
    const cov = [0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01];
    for (let k = 0; k < 10; k++) tracker.step(k * 0.04, [{ position: [10 * k * 0.04, 0, 100], covariance: cov, views: 4 }]);
    // Two measurements 20 cm apart of the same drone for several scans: a second track is born and merged away.
    for (let k = 10; k < 20; k++) {
      const x = 10 * k * 0.04;
      tracker.step(k * 0.04, [
        { position: [x, 0, 100], covariance: cov, views: 2 },
        { position: [x + 0.2, 0, 100], covariance: cov, views: 2 },
      ]);
    }
    assert.deepEqual(tracker.tracks.map((t) => t.id), ['t1']);
  });

  it('reports births, confirmations and losses', () => {
    const tracker = new Tracker({ maxCoastS: 0.1 });
    const events: string[] = [];
    for (let k = 0; k < 10; k++) {
      const ms = k < 5 ? [{ position: [k * 0.4, 0, 100] as [number, number, number], covariance: [0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01], views: 2 }] : [];
      for (const e of tracker.step(k * 0.04, ms)) events.push(`${e.event}:${e.id}`);
    }
    assert.deepEqual(events, ['born:t1', 'confirmed:t1', 'lost:t1']);
  });

  it('neither hits nor misses a track where the scan saw nothing (a voxel shard down), nor while it was itself down; once a scan looks and misses it, it coasts as any other', () => {
    const cov = [0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01];
    const at = (k: number, x: number) => ({ position: [x + 10 * k * 0.04, 0, 100] as [number, number, number], covariance: cov, views: 2 });
    const tracker = new Tracker({ maxCoastS: 0.2 });
    for (let k = 0; k < 10; k++) tracker.step(k * 0.04, [at(k, 0), at(k, 500)]);
    assert.deepEqual(tracker.tracks.map((t) => t.status), ['confirmed', 'confirmed']);
    // For 0.6 s (three times maxCoastS) the scans cover x < 250 only: the far track is not missed.
    const near = (p: readonly [number, number, number]) => p[0] < 250;
    for (let k = 10; k < 25; k++) tracker.step(k * 0.04, [at(k, 0)], near);
    assert.deepEqual(tracker.tracks.map((t) => [t.id, t.status]), [['t1', 'confirmed'], ['t2', 'confirmed']]);
    // Seen again, it picks up its measurement.
    tracker.step(25 * 0.04, [at(25, 0), at(25, 500)]);
    assert.equal(tracker.tracks.find((t) => t.id === 't2')!.lastHit, 1);
    // Covered but empty, it coasts and is lost after maxCoastS as always.
    for (let k = 26; k < 33; k++) tracker.step(k * 0.04, [at(k, 0)]);
    assert.deepEqual(tracker.tracks.map((t) => t.id), ['t1']);
    // A tracker restored after 0.5 s down holds its tracks' coasting for that time.
    const restored = new Tracker({ maxCoastS: 0.2, maxCoastSigmaM: 0.1 });
    restored.restore(tracker.snapshot());
    const snap = tracker.snapshot();
    assert.throws(() => new Tracker().restore({ ...snap, tracks: [{ ...snap.tracks[0]!, rayAxis: [1, Number.NaN, 0] }] }), /tracks\[0\]\.rayAxis: expected 3 numbers/);
    assert.throws(() => new Tracker().restore({ ...snap, nextId: 1.5 }), /not a tracker snapshot/);
    restored.holdCoast(0.5);
    restored.step(33 * 0.04 + 0.5, [], () => false);
    // Its uncertainty grew over the downtime, yet nobody looked: it stays published.
    assert.ok(restored.shown(restored.tracks[0]!), 'a track unseen only while the tracker was down is published');
    // Looked for and missed, it is a coasting track like any other: known no better than maxCoastSigmaM, it is hidden.
    restored.step(34 * 0.04 + 0.5, []);
    assert.deepEqual(restored.tracks.map((t) => [t.id, t.status]), [['t1', 'coasting']]);
    assert.ok(!restored.shown(restored.tracks[0]!), 'missed by a scan that looked, it is no longer held');
  });

  it('stops publishing a coasting track once its position is known no better than maxCoastSigmaM, and shows it again when seen', () => {
    const cov = [0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01];
    const at = (k: number) => ({ position: [10 * k * 0.04, 0, 100] as [number, number, number], covariance: cov, views: 2 });
    const tracker = new Tracker({ maxCoastS: 2, maxCoastSigmaM: 0.5 });
    for (let k = 0; k < 20; k++) tracker.step(k * 0.04, [at(k)]);
    const t = () => tracker.tracks[0]!;
    assert.ok(tracker.shown(t()));
    let k = 20;
    for (; k < 70 && tracker.shown(t()); k++) tracker.step(k * 0.04, []);
    assert.equal(t().status, 'coasting');
    assert.ok(!tracker.shown(t()) && k < 70, `hidden after ${((k - 20) * 0.04).toFixed(2)} s of coasting`);
    tracker.step(k * 0.04, [at(k)]);
    assert.equal(t().id, 't1');
    assert.ok(tracker.shown(t()), 'seen again under its ID');
  });

  it('single rays (views 1) keep a confirmed track measured, alternating cameras pin its depth; they never start or confirm a track', () => {
    // A camera's ray through the target: 5 cm across at its range.
    const rayMeas = (p: [number, number, number], eye: [number, number, number]): Measurement => {
      const d = [p[0] - eye[0], p[1] - eye[1], p[2] - eye[2]];
      const r = Math.hypot(d[0]!, d[1]!, d[2]!);
      return { position: eye, covariance: [], views: 1, ray: { origin: eye, dir: [d[0]! / r, d[1]! / r, d[2]! / r], angleVar: (0.05 / r) ** 2 } };
    };
    const cov = [0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01];
    const at = (k: number): [number, number, number] => [10 * k * 0.04, 5 * k * 0.04, 100];
    const eyes: [number, number, number][] = [[-800, 0, 0], [0, 900, 0]];
    const tracker = new Tracker({ maxCoastS: 2, maxCoastSigmaM: 0.5 });
    for (let k = 0; k < 15; k++) tracker.step(k * 0.04, [{ position: at(k), covariance: cov, views: 2 }]);
    assert.deepEqual(tracker.tracks.map((t) => [t.id, t.status]), [['t1', 'confirmed']]);
    let k = 15;
    for (; k < 90; k++) tracker.step(k * 0.04, [rayMeas(at(k), eyes[k % 2]!)]);
    const t = tracker.tracks[0]!;
    assert.deepEqual([tracker.tracks.length, t.id, t.status], [1, 't1', 'confirmed']);
    const err = Math.hypot(...position(t).map((v, i) => v - at(k - 1)[i]!));
    assert.ok(err < 0.2 && tracker.shown(t), `${err.toFixed(3)} m after 3 s of single rays`);
    // One camera alone leaves the depth open: the track is kept, but not published for long.
    for (; k < 200 && tracker.shown(tracker.tracks[0]!); k++) tracker.step(k * 0.04, [rayMeas(at(k), eyes[0]!)]);
    assert.ok(k < 200, 'hidden once its depth is known no better than maxCoastSigmaM');
    assert.equal(tracker.tracks[0]!.id, 't1');

    // Rays alone start nothing; a tentative track does not take them.
    const fresh = new Tracker();
    for (let j = 0; j < 10; j++) fresh.step(j * 0.04, [rayMeas(at(j), eyes[j % 2]!)]);
    assert.equal(fresh.tracks.length, 0, "no track from rays alone");
    fresh.step(0.4, [{ position: at(10), covariance: cov, views: 2 }]);
    for (let j = 11; j < 16; j++) fresh.step(j * 0.04, [rayMeas(at(j), eyes[j % 2]!)]);
    assert.equal(fresh.tracks.length, 0, 'the tentative track missed every scan and was dropped');
  });

  it('a track measured by one camera\'s rays alone publishes a depth uncertainty its error stays within, a target speeding up along the ray included', () => {
    const eye: Point = [-300, 0, 0];
    const cov = [0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.01];
    // A bird 300 m out flying across, then speeding up toward the camera (5 m/s²) once one camera alone sees it.
    const along = (p: Point) => { const d = p.map((v, a) => v - eye[a]!); const r = Math.hypot(...d); return d.map((v) => v / r) as Point; };
    const start: Point = [0, 0, 100];
    const u = along(start);
    const at = (t: number): Point => { const s = Math.max(0, t - 0.6); return [start[0], start[1] + 8 * t, start[2]].map((v, a) => v - 2.5 * s * s * u[a]!) as Point; };
    const ray = (p: Point): Measurement => ({ position: eye, covariance: [], views: 1, ray: { origin: eye, dir: along(p), angleVar: (0.05 / 316) ** 2 } });
    const run = (options: Partial<TrackerOptions>) => {
      const tracker = new Tracker({ maxCoastS: 2, ...options });
      let worst = 0;
      let shownS = 0;
      for (let k = 0; k < 100; k++) {
        const t = k / 30;
        tracker.step(t, [t < 0.6 ? { position: at(t), covariance: cov, views: 2 } : ray(at(t))]);
        const track = tracker.tracks[0]!;
        if (t < 0.6 || !tracker.shown(track)) continue;
        shownS = t - 0.6;
        const P = track.state.P.v;
        let depthVar = 0;
        for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) depthVar += u[i]! * P[i * 6 + j]! * u[j]!;
        const err = position(track).reduce((s, v, a) => s + (v - at(t)[a]!) * u[a]!, 0);
        worst = Math.max(worst, Math.abs(err) / Math.sqrt(depthVar));
      }
      return { worst, shownS, id: tracker.tracks[0]!.id };
    };
    const honest = run({});
    assert.ok(honest.worst < 3, `depth error within 3σ while published: worst ${honest.worst.toFixed(1)}σ`);
    assert.ok(honest.shownS > 0.1 && honest.shownS < 1, `published ${honest.shownS.toFixed(2)} s of rays alone, then hidden (maxCoastSigmaM)`);
    assert.equal(honest.id, 't1', 'kept, not lost');
    // Without the noise along the ray the quiet motion model vouches for a depth it cannot see.
    const blind = run({ rayAxisNoise: 0 });
    assert.ok(blind.worst > 3, `without rayAxisNoise: ${blind.worst.toFixed(1)}σ`);
    assert.throws(() => new Tracker({ rayAxisNoise: -1 }), /options\.rayAxisNoise: expected a number ≥ 0/);
  });
});

describe('the tracker benchmark', () => {
  it('tracks every target of its synthetic sky and confirms none of its clutter, on the actor\'s wire format', () => {
    const r = trackerThroughput({ targets: 40, scansPerS: 35, scans: 35 });
    assert.ok((r.confirmed_tracks_at_end as number) >= 38 && (r.confirmed_tracks_at_end as number) <= 40, `${r.confirmed_tracks_at_end} confirmed tracks of 40 targets`);
    assert.ok((r.scans_per_s as number) > 0 && (r.ratio_vs_nearest_neighbour as number) > 0);
  });
});

describe('IMM motion model', () => {
  /** A drone cruising at 15 m/s, turning hard (≈ 9 m/s², 3 s), then cruising again. */
  function path(t: number): [number, number, number] {
    const v = 15;
    const omega = 0.6; // rad/s during the turn
    if (t < 4) return [v * t, 0, 120];
    const r = v / omega;
    if (t < 7) {
      const a = omega * (t - 4);
      return [v * 4 + r * Math.sin(a), r * (1 - Math.cos(a)), 120];
    }
    const a = omega * 3;
    const [x0, y0] = [v * 4 + r * Math.sin(a), r * (1 - Math.cos(a))];
    return [x0 + v * Math.cos(a) * (t - 7), y0 + v * Math.sin(a) * (t - 7), 120];
  }

  function run(options: ConstructorParameters<typeof Tracker>[0]) {
    const rng = new Rng(5);
    const tracker = new Tracker(options);
    const se = [0, 0, 0];
    const n = [0, 0, 0];
    const mu = [0, 0, 0];
    for (let k = 0; k < 300; k++) {
      const t = k * 0.04;
      const p = path(t);
      tracker.step(t, [{ position: p.map((v) => v + 0.5 * rng.normal()) as [number, number, number], covariance: [0.25, 0, 0, 0, 0.25, 0, 0, 0, 0.25], views: 2 }]);
      const tr = tracker.tracks[0]!;
      if (k < 20) continue;
      const seg = t < 4 ? 0 : t < 7 ? 1 : 2; // cruise, turn, cruise
      se[seg]! += position(tr).reduce((s, v, a) => s + (v - p[a]!) ** 2, 0);
      mu[seg]! += tr.filter.mu[tr.filter.mu.length - 1]!;
      n[seg]!++;
    }
    const rms = (segs: number[]) => Math.sqrt(segs.reduce((s, i) => s + se[i]!, 0) / segs.reduce((s, i) => s + n[i]!, 0));
    return { all: rms([0, 1, 2]), cruise: rms([0, 2]), turn: rms([1]), muTurn: mu[1]! / n[1]!, muCruise: (mu[0]! + mu[2]!) / (n[0]! + n[2]!), tracks: tracker.tracks.length };
  }

  it('moves to its manoeuvre model in a hard turn, cruises like the quiet model, and beats the quiet model overall', () => {
    const imm = run({ motion: 'imm' });
    const quiet = run({ motion: 'cv', processNoise: 1 });
    const loud = run({ motion: 'cv', processNoise: 60 });
    assert.equal(imm.tracks, 1, 'one track throughout');
    assert.ok(imm.muTurn > imm.muCruise + 0.2, `manoeuvre mode ${imm.muTurn} in the turn vs ${imm.muCruise} cruising`);
    assert.ok(imm.cruise < loud.cruise, `cruising RMSE imm ${imm.cruise} vs loud ${loud.cruise}`);
    assert.ok(imm.all < quiet.all, `RMSE imm ${imm.all} vs quiet ${quiet.all}`);
  });
});
