/**
 * A 3D multi-target tracker built from small parts (Stone Soup's shape): predict every track,
 * gate measurements (Mahalanobis), associate with an optimal assignment (Munkres), update or
 * coast, delete the stale, initiate from what is left. `step(time, measurements)` is the API.
 * Motion is an IMM over a quiet and a manoeuvring constant-velocity model (imm.ts), or one
 * constant-velocity model; a crossing-target mode (JPDA or MHT) comes next.
 */
import { munkres } from 'munkres';
import { mat, type Mat } from '../../geometry/matrix.js';
import type { TRACK_EVENTS, TRACK_STATUSES } from '../../schemas/tracks.js';
import { type Gaussian, innovation, mahalanobis2 } from './kalman.js';
import { combine, DEFAULT_IMM, type ImmOptions, immPredict, type ImmState, immStart, immUpdate } from './imm.js';

export interface Measurement {
  position: [number, number, number];
  /** 3×3 row-major (m²). */
  covariance: number[];
  views: number;
}

export interface TrackerOptions {
  /** `imm`: quiet + manoeuvre models mixed (imm.ts); `cv`: one constant-velocity model. */
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
  /** Delete a confirmed track after this many scans without an update, a tentative one after `tentativeMisses`. */
  maxCoast: number;
  tentativeMisses: number;
  /** Speed a new track may have (m/s): its initial velocity uncertainty. */
  maxSpeed: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = { motion: 'cv', imm: DEFAULT_IMM, processNoise: 20, gateChi2: 16.3, confirmM: 3, confirmN: 4, maxCoast: 15, tentativeMisses: 2, maxSpeed: 40 };

type Status = (typeof TRACK_STATUSES)[number];

export interface Track {
  id: string;
  status: Status;
  /** The mixture's moment-matched estimate (what gating and outputs use). */
  state: Gaussian;
  filter: ImmState;
  /** Recent scans, newest last: true where the track was updated. */
  history: boolean[];
  misses: number;
  views: number;
}

export interface TrackerEvent {
  id: string;
  event: (typeof TRACK_EVENTS)[number];
  position: [number, number, number];
}

const column = (v: number[]) => mat(v.length, 1, v);

/** A multi-target tracker; holds its tracks between steps. */
export class Tracker {
  readonly options: TrackerOptions;
  #tracks: Track[] = [];
  #time: number | undefined;
  #nextId = 1;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.options = { ...DEFAULT_TRACKER_OPTIONS, ...options };
  }

  get tracks(): readonly Track[] {
    return this.#tracks;
  }

  /** Advances to `time` (seconds) with this scan's measurements; returns the scan's events. */
  step(time: number, measurements: readonly Measurement[]): TrackerEvent[] {
    const o = this.options;
    const dt = this.#time === undefined ? 0 : Math.max(0, time - this.#time);
    this.#time = time;
    const events: TrackerEvent[] = [];
    const models = this.#immOptions();
    const predicted = this.#tracks.map((t) => {
      const filter = dt > 0 ? immPredict(t.filter, dt, models) : t.filter;
      return { ...t, filter, state: combine(filter) };
    });
    const pairs = this.#associate(predicted, measurements);
    const used = new Set<number>();
    for (const [ti, t] of predicted.entries()) {
      const mi = pairs.get(ti);
      const hit = mi !== undefined;
      if (hit) {
        const m = measurements[mi]!;
        const filter = immUpdate(t.filter, column(m.position), mat(3, 3, m.covariance));
        if (filter) {
          t.filter = filter;
          t.state = combine(filter);
        }
        used.add(mi);
        t.views = m.views;
      }
      t.history = [...t.history, hit].slice(-o.confirmN);
      t.misses = hit ? 0 : t.misses + 1;
      const hits = t.history.filter(Boolean).length;
      if (t.status === 'tentative' && hits >= o.confirmM) {
        t.status = 'confirmed';
        events.push({ id: t.id, event: 'confirmed', position: position(t) });
      } else if (t.status !== 'tentative') t.status = hit ? 'confirmed' : 'coasting';
    }
    const kept: Track[] = [];
    for (const t of predicted) {
      const dead = t.status === 'tentative' ? t.misses > o.tentativeMisses : t.misses > o.maxCoast;
      if (!dead) kept.push(t);
      else if (t.status !== 'tentative') events.push({ id: t.id, event: 'lost', position: position(t) });
    }
    measurements.forEach((m, mi) => {
      if (used.has(mi)) return;
      const P = mat(6, 6);
      for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) P.v[i * 6 + j] = m.covariance[i * 3 + j]!;
      for (let i = 3; i < 6; i++) P.v[i * 6 + i] = (o.maxSpeed / 2) ** 2;
      const g = { x: column([...m.position, 0, 0, 0]), P };
      const t: Track = { id: `t${this.#nextId++}`, status: 'tentative', state: g, filter: immStart(g, models), history: [true], misses: 0, views: m.views };
      kept.push(t);
      events.push({ id: t.id, event: 'born', position: m.position });
    });
    this.#tracks = kept;
    return events;
  }

  #immOptions(): ImmOptions {
    return this.options.motion === 'imm' ? this.options.imm : { models: [{ q: this.options.processNoise }], stayPerSecond: 1 };
  }

  /**
   * Optimal assignment of measurements to tracks inside the gate: track index → measurement
   * index. A cheap exact pre-gate (|ν|² > gate·trace S implies d² > gate) skips most pairs,
   * and the assignment is solved per cluster of tracks and measurements that share a gate.
   */
  #associate(tracks: Track[], ms: readonly Measurement[]): Map<number, number> {
    const out = new Map<number, number>();
    if (tracks.length === 0 || ms.length === 0) return out;
    const gate = this.options.gateChi2;
    const feasible: { ti: number; mi: number; cost: number }[] = [];
    for (const [ti, t] of tracks.entries()) {
      const [x, y, z] = [t.state.x.v[0]!, t.state.x.v[1]!, t.state.x.v[2]!];
      const traceP = t.state.P.v[0]! + t.state.P.v[7]! + t.state.P.v[14]!;
      for (const [mi, m] of ms.entries()) {
        const e2 = (m.position[0] - x) ** 2 + (m.position[1] - y) ** 2 + (m.position[2] - z) ** 2;
        if (e2 > gate * (traceP + m.covariance[0]! + m.covariance[4]! + m.covariance[8]!)) continue;
        const inn = innovation(t.state, column(m.position), mat(3, 3, m.covariance));
        if (!inn) continue;
        const d2 = mahalanobis2(inn.nu, inn.Sinv);
        // The likelihood's negative log: distance plus the spread of the prediction (offset keeps costs positive).
        if (d2 <= gate) feasible.push({ ti, mi, cost: d2 + Math.log(inn.detS) + 100 });
      }
    }
    // Clusters: tracks and measurements linked by a feasible pair.
    const parent = new Map<string, string>();
    const find = (k: string): string => {
      let r = k;
      while (parent.get(r) !== r) r = parent.get(r)!;
      parent.set(k, r);
      return r;
    };
    const join = (a: string, b: string) => {
      for (const k of [a, b]) if (!parent.has(k)) parent.set(k, k);
      const [ra, rb] = [find(a), find(b)];
      if (ra !== rb) parent.set(ra, rb);
    };
    for (const f of feasible) join(`t${f.ti}`, `m${f.mi}`);
    const clusters = new Map<string, typeof feasible>();
    for (const f of feasible) {
      const r = find(`t${f.ti}`);
      clusters.set(r, [...(clusters.get(r) ?? []), f]);
    }
    const INFEASIBLE = 1e9;
    for (const pairs of clusters.values()) {
      const tis = [...new Set(pairs.map((p) => p.ti))];
      const mis = [...new Set(pairs.map((p) => p.mi))];
      const cost = tis.map(() => mis.map(() => INFEASIBLE));
      for (const p of pairs) cost[tis.indexOf(p.ti)]![mis.indexOf(p.mi)] = p.cost;
      for (const [r, c] of munkres(cost)) if (cost[r]![c]! < INFEASIBLE) out.set(tis[r]!, mis[c]!);
    }
    return out;
  }
}

/** The position part of a track's state. */
export const position = (t: Track): [number, number, number] => [t.state.x.v[0]!, t.state.x.v[1]!, t.state.x.v[2]!];
/** The velocity part of a track's state. */
export const velocity = (t: Track): [number, number, number] => [t.state.x.v[3]!, t.state.x.v[4]!, t.state.x.v[5]!];
/** Share of the recent scans that updated the track. */
export const score = (t: Track, n: number): number => t.history.filter(Boolean).length / n;

export type { Mat };
