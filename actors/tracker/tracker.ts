/**
 * A 3D multi-target tracker built from small parts (Stone Soup's shape): predict every track,
 * gate measurements (Mahalanobis), associate with an optimal assignment (Munkres), update or
 * coast, delete the stale, initiate from what is left. `step(time, measurements)` is the API.
 * Motion is an IMM over a quiet and a manoeuvring constant-velocity model (imm.ts; default),
 * or one constant-velocity model; association is the assignment or, for crossing targets,
 * JPDA (jpda.ts).
 */
import { assignSparse, type Edge } from '../../kernels/assign.js';
import { type RayObservation, rayAsPoint } from '../../geometry/ray-point.js';
import { largestEigenvalue3, mat, type Mat } from '../../geometry/matrix.js';
import type { TRACK_EVENTS, TRACK_STATUSES } from '../../schemas/tracks.js';
import { addAxisNoise, type Gaussian, gateDistance } from './kalman.js';
import { combine, DEFAULT_IMM, type ImmOptions, immPredict, type ImmState, immStart, immUpdate, immWeightedUpdate } from './imm.js';
import { DEFAULT_JPDA, type Gated, gateClusters, jpdaCluster, type JpdaOptions } from './jpda.js';
import { mapPacked } from '../../util/packed-array.js';

/** What a scan gives one track: one measurement, or (JPDA) each with a probability. */
type Decision = { m: number } | { beta: { m: number; p: number }[]; none: number };

export interface Measurement {
  position: [number, number, number];
  /** 3×3 row-major (m²). */
  covariance: number[];
  views: number;
  /**
   * One camera's ray (views 1): measured against each track as the ray's point nearest the
   * track's prediction (geometry/ray-point.ts), so it updates a track but never places one.
   */
  ray?: RayObservation;
}

/**
 * How open a ray is along itself, against a track known to `v` m² along it: so much wider
 * that the ray adds no depth (a ten-thousandth of what the track knows), yet the innovation
 * covariance stays well conditioned.
 */
const openAlongRay = (v: number) => 1e4 * v + 1;

/** What `m` says about a track at `state`: itself, or for a ray the ray's point and covariance near the track. */
function heldAgainst(m: Measurement, state: Gaussian): { z: Mat; R: Mat } {
  if (!m.ray) return { z: column(m.position), R: mat(3, 3, m.covariance) };
  const x = state.x.v;
  const P = state.P.v;
  const d = m.ray.dir;
  let along = 0;
  for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) along += d[i]! * P[i * 6 + j]! * d[j]!;
  const p = rayAsPoint(m.ray, [x[0]!, x[1]!, x[2]!], openAlongRay(along));
  return { z: column([...p.position]), R: mat(3, 3, p.covariance) };
}

export interface TrackerOptions {
  /** `imm` (default): quiet + manoeuvre models mixed (imm.ts); `cv`: one constant-velocity model. */
  motion: 'imm' | 'cv';
  /** Acceleration spectral density of the `cv` model (m²/s³). */
  processNoise: number;
  /** The IMM's models and mode persistence. */
  imm: ImmOptions;
  /** Gate on the squared Mahalanobis distance (3 dof; 16.3 ≈ 99.9 %). */
  gateChi2: number;
  /** Confirm after `confirmM` hits in the last `confirmN` scans. */
  confirmM: number;
  confirmN: number;
  /**
   * Delete a confirmed track after this many seconds without an update (time, not scans: the
   * same gap bridged at any frame rate); a tentative one after `tentativeMisses` scans.
   */
  maxCoastS: number;
  /**
   * A track nobody could see (the tracker down, its voxel shard down, the pairs that see it
   * missing from the scans) is held — its coasting clock stands still — for at most this many
   * seconds in all since its last update; then it ends, so a camera that never comes back does
   * not keep its tracks for ever.
   */
  maxHeldS: number;
  /**
   * A coasting track whose position is known no better than this (m, 1σ along its least
   * certain axis; 0: no bound) is not published until it is measured again; it keeps its
   * identity until maxCoastS. With the IMM a track on a target its models do not predict (a
   * bird) grows uncertain fast and drops out before it strays; one on a steady drone shows
   * through most of a gap.
   */
  maxCoastSigmaM: number;
  tentativeMisses: number;
  /** Speed a new track may have (m/s): its initial velocity uncertainty. */
  maxSpeed: number;
  /** Two tracks closer than this (m) and moving alike within `mergeMps` (m/s) are one object: the younger is dropped. */
  mergeM: number;
  mergeMps: number;
  /**
   * `gnn`: each track takes at most one measurement by an optimal assignment (default);
   * `jpda`: tracks whose gates share measurements are updated with each in proportion to its
   * joint association probability (jpda.ts) — for targets that cross or fly close together.
   */
  association: 'gnn' | 'jpda';
  jpda: JpdaOptions;
  /**
   * A confirmed track that has just lost its target takes an unclaimed measurement this close
   * to its prediction (m; or maxSpeed times the time since its last hit, if more), restarting
   * its velocity (0: never).
   */
  reacquireM: number;
  /**
   * "Just": within this many seconds of its last hit — time, so a corner that costs a 60 fps
   * track three scans is bridged as at 25 fps — or in its first `reacquireScans` missed scans,
   * so at 5 fps a detection missed right at the corner does not end it, nor at 15 fps two.
   */
  reacquireS: number;
  reacquireScans: number;
  /**
   * In a crowd (another track within twice the reacquisition radius), the hits a measurement's
   * tentative track needs before the lost track takes it over: 1, at once; 2 (default), once it
   * is hit again — a one-off ghost point beside a drone of a swarm that missed a scan is never
   * followed up, a target round a corner is. Alone in the sky, a lost track takes it at once.
   */
  reacquireHits: number;
  /**
   * Acceleration spectral density (m²/s³) a track measured by one camera's rays alone is given
   * along the ray, whatever its motion mode: the rays see no motion along themselves, so they
   * cannot tell the IMM whether the target manoeuvres that way, and its depth must be allowed to
   * drift as a manoeuvring target's would. Its published uncertainty then grows as its depth
   * error can, and maxCoastSigmaM hides it once its depth is known no better than that (0: the
   * motion model's own noise only).
   */
  rayAxisNoise: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = { motion: 'imm', imm: DEFAULT_IMM, processNoise: 20, gateChi2: 16.3, confirmM: 3, confirmN: 4, maxCoastS: 1, maxHeldS: 5, maxCoastSigmaM: 1, tentativeMisses: 2, maxSpeed: 40, mergeM: 1, mergeMps: 5, association: 'gnn', jpda: DEFAULT_JPDA, reacquireM: 3, reacquireS: 0.1, reacquireScans: 3, reacquireHits: 2, rayAxisNoise: 10 };

type Status = (typeof TRACK_STATUSES)[number];

export interface Track {
  id: string;
  /** Birth order: lower is older. */
  serial: number;
  status: Status;
  /** The mixture's moment-matched estimate (what gating and outputs use). */
  state: Gaussian;
  filter: ImmState;
  /** Recent scans, newest last: true where the track was updated. */
  history: boolean[];
  misses: number;
  /** Time (s) of its last update. */
  lastHit: number;
  views: number;
  /**
   * Unseen since a time nobody looked (the tracker itself down, its region's voxel shard
   * down): its uncertainty grew without a sensor reporting a miss, so it stays published
   * until it is seen again.
   */
  held?: boolean;
  /** The ray that last measured it, when one camera's ray did (rayAxisNoise); none once a point has. */
  rayAxis?: [number, number, number];
  /** Seconds held since its last update (maxHeldS). */
  heldS?: number;
  /**
   * A tentative track born of a measurement a just-lost confirmed track could reacquire: that
   * track's id, how far the measurement lay from its prediction and how long after its last hit
   * (and the noise of both, as 3σ). Hit `reacquireHits` times, it hands its state to that track
   * (if still lost and the two are one path round a corner).
   */
  standsFor?: StandIn;
}

/** What a stand-in knows of the lost track it may continue (Track.standsFor). */
export interface StandIn {
  id: string;
  offset_m: number;
  tau_s: number;
  noise_m: number;
}

export interface TrackerEvent {
  id: string;
  event: (typeof TRACK_EVENTS)[number];
  position: [number, number, number];
}

const column = (v: number[]) => mat(v.length, 1, v);

/** A tracker's whole state, plain data (MessagePack-able). */
export interface TrackerSnapshot {
  time: number | null;
  nextId: number;
  tracks: Track[];
}

/** A multi-target tracker; holds its tracks between steps. */
export class Tracker {
  readonly options: TrackerOptions;
  #tracks: Track[] = [];
  #time: number | undefined;
  #nextId = 1;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.options = checkOptions({ ...DEFAULT_TRACKER_OPTIONS, ...options, jpda: { ...DEFAULT_JPDA, ...options.jpda } });
  }

  get tracks(): readonly Track[] {
    return this.#tracks;
  }

  /** Everything needed to continue on another node: tracks (filters, histories), time, next id. */
  snapshot(): TrackerSnapshot {
    return { time: this.#time ?? null, nextId: this.#nextId, tracks: structuredClone(this.#tracks) };
  }

  /** Continues from a snapshot; throws (changing nothing) if it is not one. */
  restore(s: TrackerSnapshot): void {
    if (!s || !Array.isArray(s.tracks) || !Number.isInteger(s.nextId) || !(s.time === null || Number.isFinite(s.time))) throw new TypeError('not a tracker snapshot');
    for (const [i, t] of s.tracks.entries()) {
      if (typeof t.id !== 'string') throw new TypeError(`tracks[${i}].id: expected a string`);
      if (t.state?.x?.v?.length !== 6 || t.state?.P?.v?.length !== 36 || !Array.isArray(t.filter?.models)) throw new TypeError(`tracks[${i}]: expected a 6-state Gaussian and its filter`);
      if (t.rayAxis != null && !(Array.isArray(t.rayAxis) && t.rayAxis.length === 3 && t.rayAxis.every(Number.isFinite))) throw new TypeError(`tracks[${i}].rayAxis: expected 3 numbers, got ${JSON.stringify(t.rayAxis)}`);
    }
    this.#tracks = structuredClone(s.tracks).map((t) => ({ ...t, lastHit: Number.isFinite(t.lastHit) ? t.lastHit : (s.time ?? 0) }));
    this.#time = s.time ?? undefined;
    this.#nextId = s.nextId;
  }

  /**
   * The tracker saw nothing for `seconds` (it was down: a failover, a restart): that time does
   * not count against its tracks' coasting, since no sensor reported a miss.
   */
  holdCoast(seconds: number): void {
    if (!(seconds > 0)) return;
    for (const t of this.#tracks) {
      t.lastHit += seconds;
      t.held = true;
      t.heldS = (t.heldS ?? 0) + seconds;
    }
  }

  /**
   * Advances to `time` (seconds) with this scan's measurements; returns the scan's events.
   * `observed` says which points the scan covered for a track, tentative or not (default: all):
   * a track predicted outside it (a voxel shard was down, the pairs that see it absent) is
   * neither hit nor missed, and its coasting clock stands still.
   */
  step(time: number, measurements: readonly Measurement[], observed?: (p: readonly [number, number, number], tentative: boolean) => boolean): TrackerEvent[] {
    const o = this.options;
    const dt = this.#time === undefined ? 0 : Math.max(0, time - this.#time);
    this.#time = time;
    const events: TrackerEvent[] = [];
    const models = this.#immOptions();
    const predicted = mapPacked(this.#tracks, (t) => {
      let filter = dt > 0 ? immPredict(t.filter, dt, models) : t.filter;
      const axis = t.rayAxis;
      if (axis && dt > 0 && o.rayAxisNoise > 0) filter = { ...filter, models: mapPacked(filter.models, (g, j) => addAxisNoise(g, dt, o.rayAxisNoise - models.models[j]!.q, axis)) };
      return { ...t, filter, state: combine(filter) };
    });
    const seen = observed ? predicted.map((t) => observed([t.state.x.v[0]!, t.state.x.v[1]!, t.state.x.v[2]!], t.status === 'tentative')) : undefined;
    const visible = seen ? predicted.filter((_, i) => seen[i]) : predicted;
    const visibleIndex = seen ? predicted.map((_, i) => i).filter((i) => seen[i]) : undefined;
    // Measurements sorted by x once a scan, for the gate and reacquisition alike.
    const near = new NearInX(measurements);
    const decisions = new Map<number, Decision>();
    for (const [vi, d] of this.#associate(visible, measurements, near)) decisions.set(visibleIndex ? visibleIndex[vi]! : vi, d);
    const used = new Set<number>();
    const share = new Map<number, number>();
    for (let ti = 0; ti < predicted.length; ti++) {
      const t = predicted[ti]!;
      if (seen && !seen[ti]) {
        t.lastHit += dt;
        t.held = true;
        t.heldS = (t.heldS ?? 0) + dt;
        continue;
      }
      const d = decisions.get(ti);
      let hit = false;
      if (d && 'm' in d) {
        hit = true;
        const m = measurements[d.m]!;
        const { z, R } = heldAgainst(m, t.state);
        const filter = immUpdate(t.filter, z, R);
        if (filter) {
          t.filter = filter;
          t.state = combine(filter);
        }
        used.add(d.m);
        t.views = m.views;
        t.rayAxis = m.ray ? [...m.ray.dir] : undefined;
      } else if (d) {
        // Updated with every gated measurement in proportion; it counts as hit when more likely than not.
        hit = d.none < 0.5;
        t.filter = immWeightedUpdate(t.filter, d.beta.map((b) => ({ ...heldAgainst(measurements[b.m]!, t.state), w: b.p })), d.none);
        t.state = combine(t.filter);
        for (const b of d.beta) share.set(b.m, (share.get(b.m) ?? 0) + b.p);
        const best = d.beta.reduce((a, b) => (b.p > a.p ? b : a), d.beta[0]!);
        if (hit && best) {
          const m = measurements[best.m]!;
          t.views = m.views;
          t.rayAxis = m.ray ? [...m.ray.dir] : undefined;
        }
      }
      // The last confirmN scans' hits (a new array: the track before this scan keeps its own).
      const history = t.history.slice(Math.max(0, t.history.length + 1 - o.confirmN));
      history.push(hit);
      t.history = history;
      t.misses = hit ? 0 : t.misses + 1;
      // Looked for, hit or missed: no longer a track nobody could see.
      t.held = false;
      if (hit) {
        t.lastHit = time;
        t.heldS = 0;
      }
      let hits = 0;
      for (const h of history) if (h) hits++;
      if (t.status === 'tentative' && hits >= o.confirmM) {
        t.status = 'confirmed';
        events.push({ id: t.id, event: 'confirmed', position: position(t) });
      } else if (t.status !== 'tentative') t.status = hit ? 'confirmed' : 'coasting';
    }
    for (const [mi, p] of share) if (p >= 0.5) used.add(mi);
    const standIns = this.#reacquire(predicted, measurements, near, used, time, dt, seen);
    const handedOver = this.#takeOver(predicted, events);
    const kept: Track[] = [];
    const duplicates = this.#duplicates(predicted);
    for (const t of predicted) {
      if (handedOver.has(t)) continue;
      const dead = duplicates.has(t) || (t.heldS ?? 0) > o.maxHeldS || (t.status === 'tentative' ? t.misses > o.tentativeMisses : time - t.lastHit > o.maxCoastS);
      if (!dead) kept.push(t);
      else if (t.status !== 'tentative') events.push({ id: t.id, event: 'lost', position: position(t) });
    }
    measurements.forEach((m, mi) => {
      // One camera's ray (views 1) measures a known track; it cannot place a new one.
      if (used.has(mi) || m.views < 2) return;
      const P = mat(6, 6);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) P.v[i * 6 + j] = m.covariance[i * 3 + j]!;
      for (let i = 3; i < 6; i++) P.v[i * 6 + i] = (o.maxSpeed / 2) ** 2;
      const g = { x: column([...m.position, 0, 0, 0]), P };
      const serial = this.#nextId++;
      const t: Track = { id: `t${serial}`, serial, status: 'tentative', state: g, filter: immStart(g, models), history: [true], misses: 0, lastHit: time, views: m.views, standsFor: standIns.get(mi) };
      kept.push(t);
      events.push({ id: t.id, event: 'born', position: m.position });
    });
    this.#tracks = kept;
    return events;
  }

  /**
   * A confirmed track that has just lost its target (at most `reacquireScans` missed scans, or
   * its last hit at most `reacquireS` old) reacquires the nearest measurement no track took
   * within `reacquireM` of its prediction: a target that turns harder than the motion model
   * allows (a waypoint corner, a drone stopping) keeps its identity instead of leaving a
   * coasting phantom and a new track. It takes the measurement now, restarting its velocity
   * from its last hit — unless it is in a crowd and `reacquireHits` is over 1: then the
   * measurement's tentative track stands in for it (returned: measurement → track id) until it
   * is hit that often (#takeOver).
   */
  #reacquire(predicted: Track[], ms: readonly Measurement[], near: NearInX, used: Set<number>, time: number, dt: number, seen: readonly boolean[] | undefined): Map<number, StandIn> {
    const o = this.options;
    const standIns = new Map<number, StandIn>();
    if (!(o.reacquireM > 0) || !(dt > 0)) return standIns;
    const pairs: { ti: number; mi: number; d: number; crowded: boolean }[] = [];
    const distance = (a: Float64Array | number[], b: Float64Array | number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);
    // Tracks sorted by x once a scan: a crowd lies within reach in x (thousands of tracks).
    let tracksByX: ByX | undefined;
    predicted.forEach((t, ti) => {
      const tau = time - t.lastHit;
      if (t.status !== 'coasting' || !(t.misses <= o.reacquireScans || tau <= o.reacquireS) || (seen && !seen[ti])) return;
      // A turn changes the velocity by up to maxSpeed: over a long scan (5 fps) it strays further than reacquireM.
      const radius = Math.max(o.reacquireM, o.maxSpeed * tau);
      // Ghost points — two neighbours' rays crossing — form in crowds: there a measurement
      // waits to be followed up (reacquireHits), in an empty sky it is taken at once.
      tracksByX ??= new ByX(predicted.map((_, i) => i), (i) => predicted[i]!.state.x.v[0]!);
      const x = t.state.x.v;
      const crowded = tracksByX.within(x[0]!, 2 * radius).some((ui) => ui !== ti && distance(predicted[ui]!.state.x.v, x) < 2 * radius);
      for (const mi of near.pointsAround(x[0]!, radius)) {
        const m = ms[mi]!;
        if (used.has(mi) || m.views < 2) continue;
        const d = distance(m.position, x);
        if (d <= radius) pairs.push({ ti, mi, d, crowded });
      }
    });
    pairs.sort((a, b) => a.d - b.d || a.ti - b.ti || a.mi - b.mi);
    const taken = new Set<number>();
    for (const { ti, mi, d, crowded } of pairs) {
      if (taken.has(ti) || used.has(mi) || standIns.has(mi)) continue;
      taken.add(ti);
      const t = predicted[ti]!;
      if (o.reacquireHits > 1 && crowded) {
        const c = ms[mi]!.covariance;
        const P = t.state.P.v;
        standIns.set(mi, { id: t.id, offset_m: d, tau_s: time - t.lastHit, noise_m: 3 * Math.sqrt(c[0]! + c[4]! + c[8]! + P[0]! + P[7]! + P[14]!) });
        continue;
      }
      used.add(mi);
      const m = ms[mi]!;
      // Coasting moved it on at its old velocity since its last hit, tau ago: where it was then
      // is the prediction less tau of that velocity, and the new velocity spans tau to here.
      const tau = Math.max(dt, time - t.lastHit);
      const x = t.state.x.v;
      const v = [0, 1, 2].map((a) => x[3 + a]! + (m.position[a]! - x[a]!) / tau);
      const P = mat(6, 6);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) P.v[i * 6 + j] = m.covariance[i * 3 + j]!;
      // The velocity from two positions tau apart: their noise over tau, and a margin.
      for (let i = 0; i < 3; i++) P.v[(3 + i) * 7] = (2 * m.covariance[i * 4]!) / (tau * tau) + 1;
      const g = { x: column([...m.position, ...v]), P };
      t.filter = immStart(g, this.#immOptions());
      t.state = combine(t.filter);
      t.history = [...t.history.slice(0, -1), true];
      t.misses = 0;
      t.lastHit = time;
      t.held = false;
      t.status = 'confirmed';
      t.views = m.views;
      t.rayAxis = undefined;
    }
    return standIns;
  }

  /**
   * A stand-in hit `reacquireHits` times, its confirmed track still lost (coasting, or measured
   * by single rays only): the confirmed track takes the stand-in's state — position and a velocity from
   * the stand-in's own hits — and the stand-in goes; the identity carries on.
   */
  #takeOver(tracks: readonly Track[], events: TrackerEvent[]): Set<Track> {
    const o = this.options;
    const gone = new Set<Track>();
    for (const s of tracks) {
      if (s.standsFor === undefined || s.misses > 0) continue;
      // Confirmed in this very scan (confirmM ≤ reacquireHits): the identity it would take is the lost track's.
      const confirmedNow = events.findIndex((e) => e.id === s.id && e.event === 'confirmed');
      if (s.status !== 'tentative' && confirmedNow < 0) continue;
      const lost = tracks.find((t) => t.id === s.standsFor!.id);
      // Still lost: coasting, or held only by single rays (views 1), which pin no depth — a
      // camera looking along the way the target turned can keep hitting the old prediction.
      if (!lost || !(lost.status === 'coasting' || (lost.status === 'confirmed' && lost.views === 1))) {
        s.standsFor = undefined;
        continue;
      }
      if (s.history.filter(Boolean).length < o.reacquireHits) continue;
      // One path round a corner: the lost track went straight on from its last hit while the
      // target turned somewhere since, so at the stand-in's birth the two lay at most the
      // velocity change times that time apart. A neighbour that was never tracked lies further.
      const x = s.state.x.v;
      const v = lost.state.x.v;
      const P = s.state.P.v;
      const dv = Math.hypot(x[3]! - v[3]!, x[4]! - v[4]!, x[5]! - v[5]!);
      const { offset_m, tau_s, noise_m } = s.standsFor;
      if (offset_m > (dv + 3 * Math.sqrt(P[21]! + P[28]! + P[35]!)) * tau_s + noise_m) {
        s.standsFor = undefined;
        continue;
      }
      if (confirmedNow >= 0) events.splice(confirmedNow, 1);
      lost.filter = s.filter;
      lost.state = s.state;
      lost.history = [...lost.history.slice(0, -1), true];
      lost.misses = 0;
      lost.lastHit = s.lastHit;
      lost.held = false;
      lost.status = 'confirmed';
      lost.views = s.views;
      lost.rayAxis = s.rayAxis;
      gone.add(s);
    }
    return gone;
  }

  /**
   * Whether a track is published: not a coasting one known no better than maxCoastSigmaM
   * (1σ, least certain axis), unless it has not been looked for since it was last seen (held).
   */
  shown(t: Track): boolean {
    const bound = this.options.maxCoastSigmaM;
    // Measured by single rays only lately, its depth rests on how the rays crossed.
    if (bound <= 0 || (t.status !== 'coasting' && t.views > 1) || t.held) return true;
    const P = t.state.P.v;
    return largestEigenvalue3([P[0]!, P[1]!, P[2]!, P[6]!, P[7]!, P[8]!, P[12]!, P[13]!, P[14]!]) <= bound * bound;
  }

  /**
   * Tracks that follow the same object as an older one (closer than mergeM in position and
   * mergeMps in velocity): when views of one object split between two tracks, both would
   * otherwise live on. The confirmed, then the older, track is kept.
   */
  #duplicates(tracks: readonly Track[]): Set<Track> {
    const { mergeM, mergeMps } = this.options;
    const out = new Set<Track>();
    // Sweep along x: only tracks within mergeM in x can be duplicates.
    const byX = [...tracks].sort((a, b) => a.state.x.v[0]! - b.state.x.v[0]!);
    for (let i = 0; i < byX.length; i++) {
      const a = byX[i]!.state.x.v;
      for (let j = i + 1; j < byX.length; j++) {
        const b = byX[j]!.state.x.v;
        if (b[0]! - a[0]! >= mergeM) break;
        if (Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!) < mergeM && Math.hypot(a[3]! - b[3]!, a[4]! - b[4]!, a[5]! - b[5]!) < mergeMps) {
          out.add(rank(byX[i]!) < rank(byX[j]!) ? byX[j]! : byX[i]!);
        }
      }
    }
    return out;
  }

  #immOptions(): ImmOptions {
    return this.options.motion === 'imm' ? this.options.imm : { models: [{ q: this.options.processNoise }], stayPerSecond: 1 };
  }

  /**
   * Each track's measurement(s) of the scan: by optimal assignment (gnn), or by joint
   * association probabilities per cluster of tracks sharing gated measurements (jpda; a cluster
   * with too many joint events falls back to the assignment).
   */
  #associate(tracks: Track[], ms: readonly Measurement[], near: NearInX): Map<number, Decision> {
    const out = new Map<number, Decision>();
    if (tracks.length === 0 || ms.length === 0) return out;
    const edges = this.#gate(tracks, ms, near);
    if (this.options.association === 'gnn') {
      for (const [t, m] of assignSparse(edges)) out.set(t, { m });
      return out;
    }
    const gated: Gated[] = tracks.map(() => []);
    for (const e of edges) gated[e.row]!.push({ m: e.col, lik: e.lik });
    for (const cluster of gateClusters(gated)) {
      if (cluster.every((t) => gated[t]!.length === 0)) continue;
      const beta = jpdaCluster(cluster.map((t) => gated[t]!), this.options.jpda);
      if (beta) cluster.forEach((t, i) => gated[t]!.length > 0 && out.set(t, beta[i]!));
      else {
        const mine = new Set(cluster);
        for (const [t, m] of assignSparse(edges.filter((e) => mine.has(e.row)))) out.set(t, { m });
      }
    }
    return out;
  }

  /**
   * Track–measurement pairs inside the gate, with the assignment cost (the likelihood's negative
   * log, offset to stay positive) and the likelihood. A cheap exact pre-gate
   * (|ν|² > gate·trace S implies d² > gate) skips most pairs.
   */
  #gate(tracks: Track[], ms: readonly Measurement[], near: NearInX): (Edge & { lik: number })[] {
    const gate = this.options.gateChi2;
    const feasible: (Edge & { lik: number })[] = [];
    const trace = (g: Gaussian) => g.P.v[0]! + g.P.v[7]! + g.P.v[14]!;
    for (let ti = 0; ti < tracks.length; ti++) {
      const t = tracks[ti]!;
      // An IMM track is also gated by its widest model: a target that starts to manoeuvre
      // leaves the quiet model's gate before the mode probabilities have moved.
      let widest = t.state;
      for (const g of t.filter.models) if (trace(g) > trace(widest)) widest = g;
      const x = t.state.x.v[0]!;
      const y = t.state.x.v[1]!;
      const z = t.state.x.v[2]!;
      const traceP = Math.max(trace(t.state), trace(widest)) + Math.hypot(widest.x.v[0]! - x, widest.x.v[1]! - y, widest.x.v[2]! - z) ** 2;
      // The points in reach and every ray, merged in ascending index order.
      const points = sortAscending(near.pointsAround(x, Math.sqrt(gate * (traceP + near.maxTraceR))));
      const rays = near.rays;
      for (let i = 0, j = 0; i < points.length || j < rays.length; ) {
        const mi = j >= rays.length || (i < points.length && points[i]! < rays[j]!) ? points[i++]! : rays[j++]!;
        const m = ms[mi]!;
        const ray = m.ray;
        // A single ray confirms nothing: a tentative track waits for points.
        if (ray && t.status === 'tentative') continue;
        let e2 = (m.position[0] - x) ** 2 + (m.position[1] - y) ** 2 + (m.position[2] - z) ** 2;
        let traceR = m.covariance[0]! + m.covariance[4]! + m.covariance[8]!;
        if (ray) {
          // Only the offset across the ray counts (position is the ray's origin), and the spread
          // across it at the track's range.
          const a = (x - m.position[0]) * ray.dir[0] + (y - m.position[1]) * ray.dir[1] + (z - m.position[2]) * ray.dir[2];
          e2 -= a * a;
          traceR = 2 * ray.angleVar * a * a;
        }
        if (e2 > gate * (traceP + traceR)) continue;
        // The better of the state's and the widest model's fit: the lower d² + log det S.
        let bestD2 = Infinity;
        let bestDetS = 0;
        for (let c = 0; c < (widest === t.state ? 1 : 2); c++) {
          const g = c === 0 ? t.state : widest;
          const held = ray ? heldAgainst(m, g) : undefined;
          const inn = held ? gateDistance(g, held.z.v, held.R.v) : gateDistance(g, m.position, m.covariance);
          if (!inn) continue;
          if (bestD2 === Infinity || inn.d2 + Math.log(inn.detS) < bestD2 + Math.log(bestDetS)) {
            bestD2 = inn.d2;
            bestDetS = inn.detS;
          }
        }
        if (bestD2 <= gate) feasible.push({ row: ti, col: mi, cost: bestD2 + Math.log(bestDetS) + 100, lik: Math.exp(-0.5 * bestD2) / Math.sqrt((2 * Math.PI) ** 3 * bestDetS) });
      }
    }
    return feasible;
  }
}

/** Items sorted by x, to find those within some reach in x without trying them all. */
class ByX {
  readonly #order: number[];
  readonly #xs: Float64Array;
  /** `indices` of the items, `x(i)` each one's x. */
  constructor(indices: number[], x: (i: number) => number) {
    this.#order = indices.sort((a, b) => x(a) - x(b) || a - b);
    this.#xs = Float64Array.from(this.#order, x);
  }
  /** Indices of the items with x within `reach` of `x`, in x order. */
  within(x: number, reach: number): number[] {
    const xs = this.#xs;
    let lo = 0;
    let hi = xs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (xs[mid]! < x - reach) lo = mid + 1;
      else hi = mid;
    }
    const out: number[] = [];
    for (let k = lo; k < xs.length && xs[k]! <= x + reach; k++) out.push(this.#order[k]!);
    return out;
  }
}

/**
 * The measurements a track's pre-gate can pass, without trying them all: points sorted by x
 * (one whose x is further than √(gate·(trace P + the largest trace R)) fails the pre-gate
 * anyway), and every ray (few; their position is a camera centre). In ascending index order,
 * as a loop over all of them would visit them.
 */
class NearInX {
  readonly maxTraceR: number;
  readonly #points: ByX;
  /** Every ray's index, ascending. */
  readonly rays: number[] = [];
  constructor(ms: readonly Measurement[]) {
    const points: number[] = [];
    let maxTraceR = 0;
    ms.forEach((m, i) => {
      if (m.ray) return void this.rays.push(i);
      points.push(i);
      maxTraceR = Math.max(maxTraceR, m.covariance[0]! + m.covariance[4]! + m.covariance[8]!);
    });
    this.maxTraceR = maxTraceR;
    this.#points = new ByX(points, (i) => ms[i]!.position[0]);
  }
  /** Indices of the points (not rays) with x within `reach` of `x`. */
  pointsAround(x: number, reach: number): number[] {
    return this.#points.within(x, reach);
  }
}

/** Sorts `a` in place, ascending: by insertion while short (the gate's few candidates), without the temporaries Array.sort makes. */
function sortAscending(a: number[]): number[] {
  if (a.length > 32) return a.sort((p, q) => p - q);
  for (let i = 1; i < a.length; i++) {
    const v = a[i]!;
    let j = i - 1;
    for (; j >= 0 && a[j]! > v; j--) a[j + 1] = a[j]!;
    a[j + 1] = v;
  }
  return a;
}

/** The tracker's settings checked; an error names the option (as the tracker actor's `options.`) and the value. */
function checkOptions(o: TrackerOptions): TrackerOptions {
  const bad = (name: string, expected: string, v: unknown) => new TypeError(`options.${name}: expected ${expected}, got ${JSON.stringify(v)}`);
  if (o.motion !== 'cv' && o.motion !== 'imm') throw bad('motion', '"cv" or "imm"', o.motion);
  if (o.association !== 'gnn' && o.association !== 'jpda') throw bad('association', '"gnn" or "jpda"', o.association);
  const positive: [string, unknown][] = [['processNoise', o.processNoise], ['gateChi2', o.gateChi2], ['maxCoastS', o.maxCoastS], ['maxHeldS', o.maxHeldS], ['maxSpeed', o.maxSpeed], ['jpda.clutterDensity', o.jpda.clutterDensity]];
  for (const [k, v] of positive) if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw bad(k, 'a number > 0', v);
  for (const [k, v] of [['jpda.pd', o.jpda.pd], ['jpda.pg', o.jpda.pg]] as const) if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw bad(k, 'a probability in (0, 1]', v);
  for (const [k, v] of [['confirmM', o.confirmM], ['confirmN', o.confirmN], ['jpda.maxEvents', o.jpda.maxEvents]] as const) if (!Number.isInteger(v) || v < 1) throw bad(k, 'an integer ≥ 1', v);
  if (typeof o.reacquireM !== 'number' || !(o.reacquireM >= 0)) throw bad('reacquireM', 'a number of metres ≥ 0 (0: never)', o.reacquireM);
  if (typeof o.reacquireS !== 'number' || !(o.reacquireS >= 0)) throw bad('reacquireS', 'a number of seconds ≥ 0', o.reacquireS);
  if (!Number.isInteger(o.reacquireScans) || o.reacquireScans < 1) throw bad('reacquireScans', 'an integer ≥ 1', o.reacquireScans);
  if (!Number.isInteger(o.reacquireHits) || o.reacquireHits < 1) throw bad('reacquireHits', 'an integer ≥ 1', o.reacquireHits);
  if (typeof o.rayAxisNoise !== 'number' || !(o.rayAxisNoise >= 0) || !Number.isFinite(o.rayAxisNoise)) throw bad('rayAxisNoise', 'a number ≥ 0 (m²/s³; 0: none)', o.rayAxisNoise);
  if (o.confirmM > o.confirmN) throw bad('confirmM', `at most confirmN (${o.confirmN})`, o.confirmM);
  return o;
}

/** Sort key for keeping one of two duplicates: confirmed before tentative, then older first. */
const rank = (t: Track): number => (t.status === 'tentative' ? 1e15 : 0) + t.serial;

/** The position part of a track's state. */
export const position = (t: Track): [number, number, number] => [t.state.x.v[0]!, t.state.x.v[1]!, t.state.x.v[2]!];
/** The velocity part of a track's state. */
export const velocity = (t: Track): [number, number, number] => [t.state.x.v[3]!, t.state.x.v[4]!, t.state.x.v[5]!];
/** Share of the recent scans that updated the track. */
export const score = (t: Track, n: number): number => t.history.filter(Boolean).length / n;

export type { Mat };
