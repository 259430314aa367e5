/**
 * Which detections of different cameras are one object: each 3D hypothesis (a track predicted
 * to the frameset's instant, or a voxel peak) is projected into every pair's view image, the
 * detections inside its gate (Mahalanobis, with the hypothesis' covariance carried through the
 * projection Jacobian) compete for it in an optimal assignment per camera, and the winners are
 * triangulated by Gauss–Newton with a per-view outlier check. Detections used are claimed, so
 * the next stage (voting) sees only what is left.
 */
import type { Camera } from '../../geometry/camera.js';
import type { RayObservation } from '../../geometry/ray-point.js';
import { triangulateRobust, type View } from '../../geometry/triangulate.js';
import type { Mat3, Vec3 } from '../../geometry/vec3.js';
import { assignSparse, type Edge } from '../../kernels/assign.js';
import { FUSED_STRIDE } from '../../schemas/fused.js';

/** A 3D hypothesis at the frameset's instant. */
export interface Hypothesis {
  position: Vec3;
  /** 3×3 row-major position covariance (m²). */
  covariance: Mat3;
  /** Seen by one camera only, it still yields a measurement: that camera's ray (detectionRay). */
  singleView?: boolean;
}

/** One pair's fused detections at the instant, with a claim flag per detection. */
export interface PairDetections {
  camera: Camera;
  /** `FusedFrame.blobs` values (FUSED_STRIDE per detection). */
  blobs: Float32Array;
  count: number;
  /** 1 where a detection is already used (or not eligible). */
  claimed: Uint8Array;
}

export interface AssociationOptions {
  /** Gate on the squared Mahalanobis distance in the image (2 dof; 13.8 ≈ 99.9 %). */
  gateChi2: number;
  /** Search no further than this from a projected hypothesis (px), however uncertain it is. */
  maxSearchPx: number;
  /** A view whose reprojection error exceeds this (squared Mahalanobis, 2 dof) is dropped. */
  residualChi2: number;
  /** Pixel variance floor added to each detection's own (px²): calibration and timing error. */
  pixelVarFloor: number;
  /** Views a point needs. */
  minViews: number;
}

export const DEFAULT_ASSOCIATION: AssociationOptions = { gateChi2: 13.8, maxSearchPx: 40, residualChi2: 16, pixelVarFloor: 0.01, minViews: 2 };

/** Checks a stage's `association` settings (any subset of AssociationOptions), each error naming `voxel.association.<setting>`. */
export function checkAssociationOptions(raw: unknown): void {
  if (raw === undefined) return;
  const keys = Object.keys(DEFAULT_ASSOCIATION);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new TypeError(`voxel.association: expected a map of ${keys.join(', ')}, got ${JSON.stringify(raw)}`);
  for (const [k, v] of Object.entries(raw)) {
    if (!keys.includes(k)) throw new TypeError(`voxel.association.${k}: unknown setting (expected one of ${keys.join(', ')})`);
    const want = k === 'minViews' ? 'an integer ≥ 2' : k === 'pixelVarFloor' ? 'a number of px² ≥ 0' : 'a number > 0';
    const ok = typeof v === 'number' && Number.isFinite(v) && (k === 'minViews' ? Number.isInteger(v) && v >= 2 : k === 'pixelVarFloor' ? v >= 0 : v > 0);
    if (!ok) throw new TypeError(`voxel.association.${k}: expected ${want}, got ${JSON.stringify(v)}`);
  }
}

/** A triangulated point and the hypothesis it came from. */
export interface AssociatedPoint {
  hypothesis: number;
  position: Vec3;
  covariance: Mat3;
  /** Sum of the confirmation scores of its detections. */
  weight: number;
  views: number;
  /** The detections it was triangulated from: [pair index, detection index]. */
  picks: [number, number][];
}

/**
 * A `singleView` hypothesis that only one camera's detection fits. Left unclaimed: it may yet
 * pair with another camera's detection in the vote (a new object); what is still free after
 * that becomes the hypothesis' single-ray measurement (detectionRay).
 */
export interface SingleView {
  hypothesis: number;
  pair: number;
  detection: number;
}

/** Buckets of detection indices by image cell, for lookups around a projected point. */
class DetectionIndex {
  readonly #cells = new Map<number, number[]>();
  constructor(
    readonly pair: PairDetections,
    readonly cell: number,
  ) {
    for (let j = 0; j < pair.count; j++) {
      if (pair.claimed[j]) continue;
      const k = this.#key(Math.floor(pair.blobs[j * FUSED_STRIDE]! / cell), Math.floor(pair.blobs[j * FUSED_STRIDE + 1]! / cell));
      const list = this.#cells.get(k);
      if (list) list.push(j);
      else this.#cells.set(k, [j]);
    }
  }
  #key(cx: number, cy: number): number {
    return (cx + 4096) * 16384 + (cy + 4096);
  }
  /** Detection indices in the cells a disc of radius r around (u, v) touches. */
  near(u: number, v: number, r: number, out: number[]): void {
    const c = this.cell;
    for (let cx = Math.floor((u - r) / c); cx <= Math.floor((u + r) / c); cx++) {
      for (let cy = Math.floor((v - r) / c); cy <= Math.floor((v + r) / c); cy++) {
        const list = this.#cells.get(this.#key(cx, cy));
        if (list) for (const j of list) out.push(j);
      }
    }
  }
}

/** The detection's pixel covariance [var_u, cov_uv, var_v] with the floor added. */
export function pixelCov(b: Float32Array, j: number, floor: number): [number, number, number] {
  const o = j * FUSED_STRIDE;
  return [Math.max(0, b[o + 2]!) + floor, b[o + 4]!, Math.max(0, b[o + 3]!) + floor];
}

/** A hypothesis projected into one camera: where it lands, its spread there (px²), and how far out a detection may be. */
export interface ImageGate {
  u: number;
  v: number;
  s00: number;
  s01: number;
  s11: number;
  radius: number;
}

/** The hypothesis' gate in the camera's image (its covariance carried through the projection Jacobian); undefined when it falls outside the image. */
export function imageGate(cam: Camera, h: Pick<Hypothesis, 'position' | 'covariance'>, o: AssociationOptions): ImageGate | undefined {
  const pj = cam.projectWithJacobian(h.position);
  if (!pj || !cam.inImage(pj.u, pj.v, -o.maxSearchPx)) return undefined;
  // S = J P Jᵀ (2×2) from the hypothesis' covariance.
  const J = pj.J;
  const P = h.covariance;
  const JP = [0, 0, 0, 0, 0, 0];
  for (let r = 0; r < 2; r++) for (let c = 0; c < 3; c++) JP[r * 3 + c] = J[r * 3]! * P[c]! + J[r * 3 + 1]! * P[3 + c]! + J[r * 3 + 2]! * P[6 + c]!;
  const s00 = JP[0]! * J[0]! + JP[1]! * J[1]! + JP[2]! * J[2]!;
  const s01 = JP[0]! * J[3]! + JP[1]! * J[4]! + JP[2]! * J[5]!;
  const s11 = JP[3]! * J[3]! + JP[4]! * J[4]! + JP[5]! * J[5]!;
  return { u: pj.u, v: pj.v, s00, s01, s11, radius: Math.min(o.maxSearchPx, Math.sqrt(o.gateChi2 * (s00 + s11 + 4))) };
}

/**
 * Detection j's pairing cost with the gate's hypothesis — its squared Mahalanobis distance plus
 * the log-determinant of their summed covariance (a negative log-likelihood up to a constant) —
 * or NaN outside the gate. A number, not an object: this runs for every candidate of every
 * track in every camera, every frameset.
 */
export function gateCost(g: ImageGate, blobs: Float32Array, j: number, o: AssociationOptions): number {
  const du = blobs[j * FUSED_STRIDE]! - g.u;
  const dv = blobs[j * FUSED_STRIDE + 1]! - g.v;
  if (du * du + dv * dv > g.radius * g.radius) return NaN;
  const [a, c, d] = pixelCov(blobs, j, o.pixelVarFloor);
  const S0 = g.s00 + a;
  const S1 = g.s01 + c;
  const S2 = g.s11 + d;
  const det = S0 * S2 - S1 * S1;
  if (!(det > 0)) return NaN;
  const d2 = (S2 * du * du - 2 * S1 * du * dv + S0 * dv * dv) / det;
  return d2 <= o.gateChi2 ? d2 + Math.log(det) : NaN;
}

/**
 * The unclaimed detections of one pair inside each hypothesis' gate, as assignment edges (row:
 * hypothesis, column: detection, cost: the pairing's negative log-likelihood).
 */
export function gatedDetections(hyps: readonly Hypothesis[], pair: PairDetections, o: AssociationOptions): Edge[] {
  const index = new DetectionIndex(pair, Math.max(8, o.maxSearchPx));
  const edges: Edge[] = [];
  const candidates: number[] = [];
  for (const [hi, h] of hyps.entries()) {
    const g = imageGate(pair.camera, h, o);
    if (!g) continue;
    candidates.length = 0;
    index.near(g.u, g.v, g.radius, candidates);
    for (const j of candidates) {
      const cost = gateCost(g, pair.blobs, j, o);
      // The offset keeps costs positive.
      if (cost === cost) edges.push({ row: hi, col: j, cost: cost + 100 });
    }
  }
  return edges;
}

/** Detection j of the pair as a view for triangulation. */
export function detectionView(pair: PairDetections, j: number, pixelVarFloor: number): View {
  const b = pair.blobs;
  return { camera: pair.camera, u: b[j * FUSED_STRIDE]!, v: b[j * FUSED_STRIDE + 1]!, cov: pixelCov(b, j, pixelVarFloor) };
}

/**
 * Associates detections to the hypotheses and triangulates; marks the detections it uses as
 * claimed. A hypothesis `owned` rejects (another voxel shard's) still claims the detections it
 * wins, so they vote nowhere here, but is not triangulated: its owner does that. A
 * `singleView` hypothesis that only one detection fits is listed in `singles`, unclaimed.
 * `onPicks` hears every owned hypothesis' picks of two views or more before they are tested.
 */
export function associateAndTriangulate(
  hyps: readonly Hypothesis[],
  pairs: readonly PairDetections[],
  options: Partial<AssociationOptions> = {},
  owned: (h: Hypothesis) => boolean = () => true,
  singles?: SingleView[],
  onPicks?: (picks: readonly [number, number][]) => void,
): AssociatedPoint[] {
  const o = { ...DEFAULT_ASSOCIATION, ...options };
  // views[h] = [pair index, detection index][] chosen for hypothesis h.
  const chosen: [number, number][][] = hyps.map(() => []);
  for (const [pi, pair] of pairs.entries()) {
    for (const [hi, j] of assignSparse(gatedDetections(hyps, pair, o))) chosen[hi]!.push([pi, j]);
  }
  const points: AssociatedPoint[] = [];
  for (const [hi, picks] of chosen.entries()) {
    if (picks.length === 1 && picks.length < o.minViews && hyps[hi]!.singleView && owned(hyps[hi]!)) singles?.push({ hypothesis: hi, pair: picks[0]![0], detection: picks[0]![1] });
    if (picks.length < o.minViews) continue;
    if (!owned(hyps[hi]!)) {
      for (const [pi, j] of picks) pairs[pi]!.claimed[j] = 1;
      continue;
    }
    onPicks?.(picks);
    const views: View[] = picks.map(([pi, j]) => detectionView(pairs[pi]!, j, o.pixelVarFloor));
    const t = triangulateRobust(views, o.residualChi2, o.minViews);
    if (!t) continue;
    let weight = 0;
    const used: [number, number][] = [];
    for (const k of t.kept) {
      const [pi, j] = picks[k]!;
      pairs[pi]!.claimed[j] = 1;
      weight += pairs[pi]!.blobs[j * FUSED_STRIDE + 9]!;
      used.push([pi, j]);
    }
    points.push({ hypothesis: hi, position: t.result.position, covariance: t.result.covariance, weight, views: t.kept.length, picks: used });
  }
  return points;
}

/** The ray of detection `j` (weight: its confirmation score): the camera centre, the direction, its angular variance. */
export function detectionRay(pair: PairDetections, j: number, pixelVarFloor: number): RayObservation & { weight: number } {
  const cam = pair.camera;
  const b = pair.blobs;
  const [vu, , vv] = pixelCov(b, j, pixelVarFloor);
  // The larger pixel variance as an angle: the ray's spread across, on either axis.
  return { origin: cam.center, dir: cam.ray(b[j * FUSED_STRIDE]!, b[j * FUSED_STRIDE + 1]!), angleVar: Math.max(vu, vv) / (cam.fx * cam.fx), weight: b[j * FUSED_STRIDE + 9]! };
}
