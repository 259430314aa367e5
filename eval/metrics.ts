/**
 * Scoring recorded tracks against ground truth with standard multi-object tracking metrics:
 * CLEAR MOT (MOTA, MOTP, ID switches, fragmentations), IDF1, GOSPA, RMSE, detection and false
 * track rates. Each scan is matched to the truth nearest in time; objects and tracks are
 * paired per scan by an optimal assignment within a distance D.
 */
import { munkres } from 'munkres';

export interface TruthScan {
  t_ns: bigint;
  objects: { id: string; position: [number, number, number]; clutter?: boolean }[];
}

export interface TrackScan {
  t_ns: bigint;
  /** When the tracks left the tracker (site clock), if recorded. */
  published_ns?: bigint;
  tracks: { id: string; status: string; position: [number, number, number] }[];
}

export interface EvalOptions {
  /** Match distance D (m): an object and a track further apart are not a match. */
  matchM: number;
  /** GOSPA cut-off c (m), order p and α (2: unmatched objects and tracks cost c^p/2 each). */
  gospaC: number;
  gospaP: number;
  /** Include clutter objects (birds from `clutter`) as targets. */
  includeClutter: boolean;
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
  /** Exposure to tracks message, over the scans that carry `published_ns`. */
  latency_ms: { p50: number; p99: number } | null;
  match_m: number;
}

const dist = (a: readonly number[], b: readonly number[]) => Math.hypot(a[0]! - b[0]!, a[1]! - b[1]!, a[2]! - b[2]!);

/** Optimal pairs (i, j) with cost(i, j) ≤ limit. */
function assign(n: number, m: number, cost: (i: number, j: number) => number, limit: number): [number, number][] {
  if (n === 0 || m === 0) return [];
  const BIG = 1e12;
  const c = Array.from({ length: n }, (_, i) => Array.from({ length: m }, (_, j) => {
    const v = cost(i, j);
    return v <= limit ? v : BIG;
  }));
  return munkres(c).filter(([i, j]) => c[i]![j]! < BIG) as [number, number][];
}

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
  let [gt, fp, fn, idsw, frag, matches, sumDist, sumSq, gospaSum, trackFrames, falseTrackFrames] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const last = new Map<string, string>(); // object → track it last matched
  const wasTracked = new Map<string, boolean>();
  const overlap = new Map<string, number>(); // `${object}|${track}` → matched frames
  const objFrames = new Map<string, number>();
  const trkFrames = new Map<string, number>();
  const { gospaC: c, gospaP: p } = o;
  for (const scan of tracks) {
    const t = nearest(scan.t_ns);
    if (!t) continue;
    const objs = t.objects.filter((x) => o.includeClutter || !x.clutter);
    const trks = scan.tracks.filter((x) => x.status !== 'tentative');
    gt += objs.length;
    trackFrames += trks.length;
    for (const x of objs) objFrames.set(x.id, (objFrames.get(x.id) ?? 0) + 1);
    for (const x of trks) trkFrames.set(x.id, (trkFrames.get(x.id) ?? 0) + 1);
    const pairs = assign(objs.length, trks.length, (i, j) => dist(objs[i]!.position, trks[j]!.position), o.matchM);
    const matchedObj = new Set(pairs.map(([i]) => i));
    const matchedTrk = new Set(pairs.map(([, j]) => j));
    for (const [i, j] of pairs) {
      const [oid, tid] = [objs[i]!.id, trks[j]!.id];
      const d = dist(objs[i]!.position, trks[j]!.position);
      sumDist += d;
      sumSq += d * d;
      matches++;
      if (last.has(oid) && last.get(oid) !== tid) idsw++;
      last.set(oid, tid);
      if (wasTracked.get(oid) === false) frag++;
      wasTracked.set(oid, true);
      overlap.set(`${oid}|${tid}`, (overlap.get(`${oid}|${tid}`) ?? 0) + 1);
    }
    objs.forEach((x, i) => {
      if (!matchedObj.has(i) && wasTracked.get(x.id)) wasTracked.set(x.id, false);
    });
    fn += objs.length - matchedObj.size;
    fp += trks.length - matchedTrk.size;
    falseTrackFrames += trks.filter((_, j) => !matchedTrk.has(j)).length;
    // GOSPA (α = 2): optimal assignment under the cut-off, c^p/2 per unassigned object or track.
    const gp = assign(objs.length, trks.length, (i, j) => Math.min(dist(objs[i]!.position, trks[j]!.position), c) ** p, c ** p);
    const assigned = gp.reduce((s, [i, j]) => s + Math.min(dist(objs[i]!.position, trks[j]!.position), c) ** p, 0);
    gospaSum += (assigned + ((c ** p) / 2) * (objs.length + trks.length - 2 * gp.length)) ** (1 / p);
  }
  // IDF1: one-to-one truth↔track identities maximising the frames they are matched.
  const oids = [...objFrames.keys()];
  const tids = [...trkFrames.keys()];
  const idPairs = assign(oids.length, tids.length, (i, j) => -(overlap.get(`${oids[i]}|${tids[j]}`) ?? 0), 0);
  const idtp = idPairs.reduce((s, [i, j]) => s + (overlap.get(`${oids[i]}|${tids[j]}`) ?? 0), 0);
  const idfn = [...objFrames.values()].reduce((a, b) => a + b, 0) - idtp;
  const idfp = [...trkFrames.values()].reduce((a, b) => a + b, 0) - idtp;
  return {
    scans: tracks.length,
    truth_frames: gt,
    mota: gt ? 1 - (fn + fp + idsw) / gt : 0,
    motp_m: matches ? sumDist / matches : 0,
    idf1: idtp ? (2 * idtp) / (2 * idtp + idfp + idfn) : 0,
    id_switches: idsw,
    fragmentations: frag,
    gospa: { mean: tracks.length ? gospaSum / tracks.length : 0, c, p, alpha: 2 },
    rmse_m: matches ? Math.sqrt(sumSq / matches) : 0,
    detection_rate: gt ? matches / gt : 0,
    false_track_rate: trackFrames ? falseTrackFrames / trackFrames : 0,
    latency_ms: latency(tracks),
    match_m: o.matchM,
  };
}

function latency(tracks: readonly TrackScan[]): { p50: number; p99: number } | null {
  const ms = tracks.filter((s) => s.published_ns !== undefined).map((s) => Number(s.published_ns! - s.t_ns) / 1e6).sort((a, b) => a - b);
  if (ms.length === 0) return null;
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!;
  return { p50: at(0.5), p99: at(0.99) };
}
