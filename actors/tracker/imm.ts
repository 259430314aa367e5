/**
 * Interacting Multiple Model filter over constant-velocity models that differ in process
 * noise: a quiet one for cruising and a loud one for manoeuvres, mixed by a Markov chain.
 * Each step mixes the model states by their mode probabilities, predicts and updates each,
 * and re-weights the modes by how well each predicted the measurement.
 */
import { add, mat, type Mat, mul, sub, symmetrize, transpose } from '../../geometry/matrix.js';
import { type Gaussian, innovation, mahalanobis2, predict, update, updateWith } from './kalman.js';
import { fromPacked, mapPacked } from '../../util/packed-array.js';

export interface ImmModel {
  /** Acceleration spectral density (m²/s³). */
  q: number;
}

export interface ImmState {
  models: Gaussian[];
  /** Mode probabilities, summing to 1. */
  mu: number[];
}

export interface ImmOptions {
  models: ImmModel[];
  /** Probability of staying in a mode from one second to the next (scaled to each step). */
  stayPerSecond: number;
}

/**
 * Defaults: a quiet model and a manoeuvre model, modes lasting seconds. The quiet model keeps
 * a steady drone's prediction tight through a gap; a target the quiet model does not predict
 * (a bird, a hard turn) moves the weight to the loud model, whose uncertainty then grows fast
 * — which is what lets the tracker stop publishing a coasting track before it strays
 * (TrackerOptions.maxCoastSigmaM). Tracks are gated by their widest model as well, so a
 * target starting to manoeuvre is not lost before the mode probabilities move.
 */
export const DEFAULT_IMM: ImmOptions = { models: [{ q: 1 }, { q: 60 }], stayPerSecond: 0.8 };

/** A new IMM state from one Gaussian, equally likely in every mode. */
export const immStart = (g: Gaussian, o: ImmOptions): ImmState => ({ models: mapPacked(o.models, () => g), mu: fromPacked(o.models.length, () => 1 / o.models.length) });

/**
 * Moment-matched single Gaussian of the mixture (written out: the IMM's innermost loop). The
 * models' covariances are symmetric, so the upper triangle is computed and mirrored.
 */
export function combine(s: ImmState): Gaussian {
  if (s.models.length === 1) return s.models[0]!;
  const x = [0, 0, 0, 0, 0, 0];
  const P = new Array<number>(36).fill(0);
  combineInto(s.models, s.mu, x, P);
  return { x: mat(6, 1, x), P: mat(6, 6, P) };
}

// combineInto's deviation, reused.
const deviation = [0, 0, 0, 0, 0, 0];

/** combine() into `x` and `P` (zeros on entry): the mixture's mean and covariance. */
function combineInto(models: readonly Gaussian[], mu: readonly number[], x: number[], P: number[]): void {
  for (let i = 0; i < models.length; i++) {
    const [g, m] = [models[i]!.x.v, mu[i]!];
    for (let k = 0; k < 6; k++) x[k] = x[k]! + g[k]! * m;
  }
  const d = deviation;
  for (let i = 0; i < models.length; i++) {
    const [g, m] = [models[i]!, mu[i]!];
    for (let k = 0; k < 6; k++) d[k] = g.x.v[k]! - x[k]!;
    for (let r = 0; r < 6; r++) for (let c = r; c < 6; c++) P[r * 6 + c] = P[r * 6 + c]! + (g.P.v[r * 6 + c]! + d[r]! * d[c]!) * m;
  }
  for (let r = 1; r < 6; r++) for (let c = 0; c < r; c++) P[r * 6 + c] = P[c * 6 + r]!;
}

/** The mode transition matrix over `dt` seconds; the last one is kept, every track of a scan asking the same. */
let lastTransition: { o: ImmOptions; dt: number; T: number[][] } | undefined;
function transition(o: ImmOptions, dt: number): number[][] {
  if (lastTransition && lastTransition.o === o && lastTransition.dt === dt) return lastTransition.T;
  const n = o.models.length;
  const stay = dt > 0 ? o.stayPerSecond ** dt : 1;
  const T = n === 1 ? [[1]] : Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => (i === j ? stay : (1 - stay) / (n - 1))));
  lastTransition = { o, dt, T };
  return T;
}

// The mixed initial condition, handed straight to predict(), which keeps nothing of it.
const mixedX = [0, 0, 0, 0, 0, 0];
const mixedP = new Array<number>(36).fill(0);
const mixed: Gaussian = { x: mat(6, 1, mixedX), P: mat(6, 6, mixedP) };

/** Mixing and prediction over `dt` seconds. */
export function immPredict(s: ImmState, dt: number, o: ImmOptions): ImmState {
  const n = o.models.length;
  const T = transition(o, dt);
  const cbar = fromPacked(n, (j) => s.mu.reduce((acc, m, i) => acc + T[i]![j]! * m, 0));
  const models = fromPacked(n, (j) => {
    // Mixed initial condition for model j.
    const w = mapPacked(s.mu, (m, i) => (T[i]![j]! * m) / Math.max(1e-300, cbar[j]!));
    if (s.models.length === 1) return predict(s.models[0]!, dt, o.models[j]!.q);
    mixedX.fill(0);
    mixedP.fill(0);
    combineInto(s.models, w, mixedX, mixedP);
    return predict(mixed, dt, o.models[j]!.q);
  });
  return { models, mu: cbar };
}

/** Update with a position measurement; undefined if no model can take it. */
export function immUpdate(s: ImmState, z: Mat, R: Mat): ImmState | undefined {
  const lik: number[] = [];
  const models = mapPacked(s.models, (g) => {
    const inn = innovation(g, z, R);
    lik.push(inn && inn.detS > 0 ? Math.exp(-0.5 * mahalanobis2(inn.nu, inn.Sinv)) / Math.sqrt((2 * Math.PI) ** 3 * inn.detS) : 0);
    return inn ? updateWith(g, inn, R) : g;
  });
  const un = mapPacked(s.mu, (m, i) => m * lik[i]!);
  const total = un.reduce((a, b) => a + b, 0);
  if (!(total > 0)) return { models, mu: s.mu };
  return { models, mu: mapPacked(un, (v) => v / total) };
}

/**
 * A probabilistic update (PDA): the track took measurement j with probability `w[j]` and none
 * with `none`. Each model becomes the moment-matched mixture of its updates (and its prior),
 * and the modes are re-weighted by the β-weighted likelihoods.
 */
export function immWeightedUpdate(s: ImmState, zs: readonly { z: Mat; R: Mat; w: number }[], none: number): ImmState {
  const sum = none + zs.reduce((a, m) => a + m.w, 0);
  if (!(sum > 0) || zs.length === 0) return s;
  const lik = mapPacked(s.models, () => 0);
  const models = mapPacked(s.models, (g, i) => {
    const parts: { g: Gaussian; w: number }[] = [{ g, w: none / sum }];
    for (const { z, R, w } of zs) {
      const inn = innovation(g, z, R);
      if (inn && inn.detS > 0) lik[i]! += (w / sum) * (Math.exp(-0.5 * mahalanobis2(inn.nu, inn.Sinv)) / Math.sqrt((2 * Math.PI) ** 3 * inn.detS));
      parts.push({ g: update(g, z, R) ?? g, w: w / sum });
    }
    let x = mat(6, 1);
    for (const p of parts) x = add(x, mat(6, 1, p.g.x.v.map((v) => v * p.w)));
    let P = mat(6, 6);
    for (const p of parts) {
      const d = sub(p.g.x, x);
      P = add(P, mat(6, 6, add(p.g.P, mul(d, transpose(d))).v.map((v) => v * p.w)));
    }
    return { x, P: symmetrize(P) };
  });
  const un = mapPacked(s.mu, (m, i) => m * lik[i]!);
  const total = un.reduce((a, b) => a + b, 0);
  return { models, mu: total > 0 ? mapPacked(un, (v) => v / total) : s.mu };
}
