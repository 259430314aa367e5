/**
 * Scoring recorded 3D tracks against ground truth: CLEAR MOT (MOTA, MOTP, ID switches,
 * fragmentations) and IDF1 through clear-mot.ts with Euclidean distance within D, plus GOSPA,
 * RMSE, detection and false-track rates and latency. Each scan is compared with the truth
 * nearest in time.
 */
import { assignSparse } from '../kernels/assign.js';
import type { ObjectKind } from '../schemas/kinds.js';
import { clearMot, type ClearMotResult, type FrameData } from './clear-mot.js';
import { invert3, type Mat3 } from '../geometry/vec3.js';
import { nearPairs } from './near-pairs.js';
import { p50p99 } from '../util/percentiles.js';

export interface TruthScan {
  t_ns: bigint;
  objects: { id: string; position: [number, number, number]; clutter?: boolean; kind?: ObjectKind; size_m?: number }[];
}

/** The CRLB of an object's 3D position (m RMS), when the rig is known (eval/crlb.ts). */
export type PositionBound = (p: [number, number, number], kind: ObjectKind, sizeM: number) => number | undefined;

export interface TrackScan {
  t_ns: bigint;
  /** When the tracks left the tracker (site clock), if recorded. */
  published_ns?: bigint;
  /** `covariance`: 6×6 f64 over x y z vx vy vz — bytes, or base64 as a recording writes them. */
  tracks: { id: string; status: string; position: [number, number, number]; covariance?: Uint8Array | string }[];
}

export interface EvalOptions {
  /** Match distance D (m): an object and a track further apart are not a match. */
  matchM: number;
  /** GOSPA cut-off c (m), order p and α (2: unmatched objects and tracks cost c^p/2 each). */
  gospaC: number;
  gospaP: number;
  /** Include clutter objects (birds from `clutter`) as targets. */
  includeClutter: boolean;
  /** With a bound, the report carries crlb_ratio: RMS error over RMS bound, on matched pairs. */
  bound?: PositionBound;
  /** With it, the report carries the detection rate over the objects the rig could see (eval/observable.ts). */
  observable?: (p: [number, number, number], kind: ObjectKind, sizeM: number) => boolean;
  /** With it (and `observable`), the report says how many camera pairs could see each target-frame no track covered. */
  pairsSeeing?: (p: [number, number, number], kind: ObjectKind, sizeM: number, enough?: number) => number;
}

export const DEFAULT_EVAL_OPTIONS: EvalOptions = { matchM: 2, gospaC: 5, gospaP: 2, includeClutter: false };

export interface EvalReport {
  scans: number;
  truth_frames: number;
  mota: number;
  motp_m: number;
  idf1: number;
  id_switches: number;
  fragmentations: number;
  gospa: { mean: number; c: number; p: number; alpha: number };
  rmse_m: number;
  detection_rate: number;
  false_track_rate: number;
  /** Confirmed track-frames set aside because they sit on a clutter object (a bird), when clutter is not scored. */
  clutter_track_frames: number;
  /**
   * Exposure to tracks message, over the scans that carry `published_ns`: percentiles, scans
   * over 50 ms (the project's p99 target), and the same percentiles from `STEADY_FROM_S` after
   * the first scan on (the cold start over; null for a shorter run).
   */
  latency_ms: { p50: number; p99: number; over_50ms: number; steady: { from_s: number; p50: number; p99: number } | null } | null;
  /** 3D RMSE over the RMS Cramér–Rao bound of the same matches (needs the scenario). */
  crlb_ratio: number | null;
  /**
   * Whether the tracks' reported position covariances are honest: over the matched track-frames
   * that carry one, the normalised estimation error squared eᵀP⁻¹e (3 dof) — a consistent
   * tracker averages 3 with 5 % above 7.81, an overconfident one more, a cautious one less.
   */
  nees: { frames: number; mean: number; p50: number; outside_95: number } | null;
  /**
   * Scored over the objects the rig could observe (two cameras with Pd ≥ 0.5; needs the
   * scenario): their share of the truth target-frames, and CLEAR MOT over them, with tracks
   * on unobservable objects set aside as tracks on clutter are.
   */
  observable: {
    share: number;
    detection_rate: number;
    mota: number;
    idf1: number;
    id_switches: number;
    false_track_rate: number;
    /** Target-frames no confirmed track covered, by how many camera pairs could see them (Pd ≥ 0.5): with none or one there is nothing to triangulate. */
    missed_by_pairs?: { none: number; one: number; two_or_more: number };
  } | null;
  match_m: number;
}

const dist = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

/** Optimal pairs over the given candidate pairs (the most pairs, then the least cost). */
function assign(pairs: readonly (readonly [number, number])[], cost: (i: number, j: number) => number): [number, number][] {
  return [...assignSparse(pairs.map(([i, j]) => ({ row: i, col: j, cost: cost(i, j) })))];
}

/** The tracks that the optimal assignment over all `objects` gives to an object `aside` picks. */
function tracksOn(objects: TruthScan['objects'], tracks: TrackScan['tracks'], aside: (x: TruthScan['objects'][number], i: number) => boolean, matchM: number): Set<number> {
  if (!objects.some(aside)) return new Set();
  const within = nearPairs(objects.map((x) => x.position), tracks.map((x) => x.position), matchM);
  const pairs = assign(within, (i, j) => dist(objects[i]!.position, tracks[j]!.position));
  return new Set(pairs.filter(([i]) => aside(objects[i]!, i)).map(([, j]) => j));
}

const point = (x: { id: string; position: [number, number, number] }) => ({ id: x.id, value: x.position });

/** CLEAR MOT's candidate pairs of a frame of points: those within `r`. */
const pointPairs = (r: number) => (f: FrameData<[number, number, number]>) => nearPairs(f.objects.map((x) => x.value), f.hypotheses.map((x) => x.value), r);

/** Scores `tracks` (confirmed and coasting tracks count) against `truth`. */
export function evaluate(truth: readonly TruthScan[], tracks: readonly TrackScan[], o: EvalOptions = DEFAULT_EVAL_OPTIONS): EvalReport {
  const sorted = [...truth].sort((a, b) => (a.t_ns < b.t_ns ? -1 : a.t_ns > b.t_ns ? 1 : 0));
  const nearest = (t: bigint): TruthScan | undefined => {
    let lo = 0;
    let hi = sorted.length - 1;
    if (hi < 0) return undefined;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid]!.t_ns < t) lo = mid + 1;
      else hi = mid;
    }
    const cands = [sorted[lo], sorted[lo - 1]].filter(Boolean) as TruthScan[];
    return cands.reduce((a, b) => ((a.t_ns > t ? a.t_ns - t : t - a.t_ns) <= (b.t_ns > t ? b.t_ns - t : t - b.t_ns) ? a : b));
  };
  const frames: FrameData<[number, number, number]>[] = [];
  const frameObjects: TruthScan['objects'][] = [];
  const frameTracks: TrackScan['tracks'][] = [];
  // Over the objects the rig could see: tracks on an unobservable object are set aside like
  // tracks on clutter (MOT's "don't care"), and those objects are not scored.
  const seenFrames: FrameData<[number, number, number]>[] = [];
  let objectFrames = 0;
  let gospaSum = 0;
  let clutterTrackFrames = 0;
  const { gospaC: c, gospaP: p } = o;
  for (const scan of tracks) {
    const t = nearest(scan.t_ns);
    if (!t) continue;
    const objs = t.objects.filter((x) => o.includeClutter || !x.clutter);
    const confirmed = scan.tracks.filter((x) => x.status !== 'tentative');
    // Clutter objects are distractors, as in MOT17: a track that the optimal assignment over
    // all objects gives to a bird is on a real object, so it is set aside, neither a false
    // track nor a target's match.
    const onClutter = o.includeClutter ? new Set<number>() : tracksOn(t.objects, confirmed, (x) => x.clutter === true, o.matchM);
    clutterTrackFrames += onClutter.size;
    const trks = confirmed.filter((_, j) => !onClutter.has(j));
    frames.push({ objects: objs.map(point), hypotheses: trks.map(point) });
    frameObjects.push(objs);
    frameTracks.push(trks);
    objectFrames += objs.length;
    if (o.observable) {
      const seen = objs.map((x) => o.observable!(x.position, x.kind ?? 'drone', x.size_m ?? 0.5));
      const onUnseen = tracksOn(objs, trks, (_, i) => !seen[i], o.matchM);
      seenFrames.push({ objects: objs.filter((_, i) => seen[i]).map(point), hypotheses: trks.filter((_, j) => !onUnseen.has(j)).map(point) });
    }
    // GOSPA (α = 2): optimal assignment under the cut-off, c^p/2 per unassigned object or track.
    // A pair c or more apart costs c^p, as leaving both unassigned does: only closer pairs count.
    const close = nearPairs(objs.map((x) => x.position), trks.map((x) => x.position), c).filter(([i, j]) => dist(objs[i]!.position, trks[j]!.position) < c);
    const gp = assign(close, (i, j) => dist(objs[i]!.position, trks[j]!.position) ** p);
    const assigned = gp.reduce((sum, [i, j]) => sum + dist(objs[i]!.position, trks[j]!.position) ** p, 0);
    gospaSum += (assigned + ((c ** p) / 2) * (objs.length + trks.length - 2 * gp.length)) ** (1 / p);
  }
  const r = clearMot(frames, dist, o.matchM, pointPairs(o.matchM));
  return {
    scans: tracks.length,
    truth_frames: r.objects,
    mota: r.mota,
    motp_m: r.motp,
    idf1: r.idf1,
    id_switches: r.switches,
    fragmentations: r.fragmentations,
    gospa: { mean: frames.length ? gospaSum / frames.length : 0, c, p, alpha: 2 },
    rmse_m: r.matches ? Math.sqrt(r.matched_distances.reduce((sum, d) => sum + d * d, 0) / r.matches) : 0,
    detection_rate: r.recall,
    false_track_rate: r.hypotheses ? r.false_positives / r.hypotheses : 0,
    clutter_track_frames: clutterTrackFrames,
    latency_ms: latency(tracks),
    crlb_ratio: crlbRatio(r.matched, frameObjects, o.bound),
    nees: nees(r.matched, frameObjects, frameTracks),
    observable: o.observable ? withMissed(observableScores(seenFrames, objectFrames, o.matchM), frameObjects, r.matched, o.pairsSeeing) : null,
    match_m: o.matchM,
  };
}

function observableScores(frames: FrameData<[number, number, number]>[], total: number, matchM: number): EvalReport['observable'] {
  if (!total) return null;
  const r = clearMot(frames, dist, matchM, pointPairs(matchM));
  return {
    share: r.objects / total,
    detection_rate: r.recall,
    mota: r.mota,
    idf1: r.idf1,
    id_switches: r.switches,
    false_track_rate: r.hypotheses ? r.false_positives / r.hypotheses : 0,
  };
}

/** Adds to the observable scores how many camera pairs could see each target-frame that no track covered. */
function withMissed(scores: EvalReport['observable'], objects: TruthScan['objects'][], matched: readonly { frame: number; object: number }[], seeing: EvalOptions['pairsSeeing']): EvalReport['observable'] {
  if (!scores || !seeing) return scores;
  const covered = new Set(matched.map((m) => `${m.frame}:${m.object}`));
  const missed = { none: 0, one: 0, two_or_more: 0 };
  objects.forEach((objs, k) =>
    objs.forEach((x, i) => {
      if (covered.has(`${k}:${i}`)) return;
      const n = seeing(x.position, x.kind ?? 'drone', x.size_m ?? 0.5, 2);
      missed[n === 0 ? 'none' : n === 1 ? 'one' : 'two_or_more']++;
    }),
  );
  return { ...scores, missed_by_pairs: missed };
}

function crlbRatio(matched: { frame: number; object: number; distance: number }[], objects: TruthScan['objects'][], bound?: PositionBound): number | null {
  if (!bound) return null;
  let [se, sb] = [0, 0];
  for (const m of matched) {
    const obj = objects[m.frame]![m.object]!;
    const b = bound(obj.position, obj.kind ?? 'drone', obj.size_m ?? 0.5);
    if (b === undefined) continue;
    se += m.distance * m.distance;
    sb += b * b;
  }
  return sb > 0 ? Math.sqrt(se / sb) : null;
}

/** χ² with 3 degrees of freedom at 95 %. */
const CHI2_3_95 = 7.815;

/** The position block of a track's 6×6 covariance (bytes or base64), or undefined. */
function positionCovariance(c: Uint8Array | string | undefined): Mat3 | undefined {
  if (c === undefined) return undefined;
  const bytes = typeof c === 'string' ? Buffer.from(c, 'base64') : c;
  if (bytes.byteLength !== 36 * 8) return undefined;
  const P = new Float64Array(Uint8Array.from(bytes).buffer);
  return [P[0]!, P[1]!, P[2]!, P[6]!, P[7]!, P[8]!, P[12]!, P[13]!, P[14]!];
}

function nees(matched: ClearMotResult['matched'], objects: TruthScan['objects'][], tracks: TrackScan['tracks'][]): EvalReport['nees'] {
  const values: number[] = [];
  for (const m of matched) {
    const t = tracks[m.frame]![m.hypothesis]!;
    const P = positionCovariance(t.covariance);
    const inv = P && invert3(P);
    if (!inv) continue;
    const e = t.position.map((v, a) => v - objects[m.frame]![m.object]!.position[a]!);
    let q = 0;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) q += e[i]! * inv[i * 3 + j]! * e[j]!;
    values.push(q);
  }
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  return { frames: values.length, mean: values.reduce((a, b) => a + b, 0) / values.length, p50: p50p99(sorted).p50, outside_95: values.filter((q) => q > CHI2_3_95).length / values.length };
}

/** Seconds after a run's first scan from which its latency counts as steady: the first tracks' births and the compiler's warm-up are behind it. */
export const STEADY_FROM_S = 5;

function latency(tracks: readonly TrackScan[]): EvalReport['latency_ms'] {
  const published = tracks.filter((s) => s.published_ns !== undefined);
  if (published.length === 0) return null;
  const ms = published.map((s) => Number(s.published_ns! - s.t_ns) / 1e6);
  const first = published.reduce((t, s) => (s.t_ns < t ? s.t_ns : t), published[0]!.t_ns);
  const steady = ms.filter((_, i) => Number(published[i]!.t_ns - first) / 1e9 >= STEADY_FROM_S);
  return { ...p50p99(Float64Array.from(ms).sort()), over_50ms: ms.filter((x) => x > 50).length, steady: steady.length ? { from_s: STEADY_FROM_S, ...p50p99(Float64Array.from(steady).sort()) } : null };
}
