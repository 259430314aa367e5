/**
 * CLEAR MOT and identity metrics over any distance, following py-motmetrics' accumulator:
 * per frame, an object keeps its previous hypothesis while the pair is still within the
 * threshold; the rest are paired by an optimal assignment; a match to another hypothesis than
 * the object's last one is a switch. IDF1 pairs identities globally (one-to-one) to maximise
 * the frames in which each pair is within the threshold.
 */
import { munkres } from 'munkres';
import { assignSparse } from '../kernels/assign.js';

export interface FrameData<T> {
  objects: { id: string; value: T }[];
  hypotheses: { id: string; value: T }[];
}

export interface ClearMotResult {
  frames: number;
  objects: number;
  hypotheses: number;
  matches: number;
  misses: number;
  false_positives: number;
  switches: number;
  fragmentations: number;
  mota: number;
  motp: number;
  recall: number;
  precision: number;
  idtp: number;
  idf1: number;
  idp: number;
  idr: number;
  unique_objects: number;
  mostly_tracked: number;
  partially_tracked: number;
  mostly_lost: number;
  /** Matched pairs' distances (for RMSE and the like). */
  matched_distances: number[];
  /** Each match: frame index, object and hypothesis indices within that frame, distance. */
  matched: { frame: number; object: number; hypothesis: number; distance: number }[];
}

/** The (object, hypothesis) index pairs of a frame that may lie within the threshold; other pairs are not. */
export type CandidatePairs<T> = (f: FrameData<T>) => Iterable<readonly [number, number]>;

/** Every pair of the frame: the default when nothing narrows them. */
function allPairs<T>(f: FrameData<T>): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < f.objects.length; i++) for (let j = 0; j < f.hypotheses.length; j++) out.push([i, j]);
  return out;
}

/**
 * Accumulates frames; `distance` returns NaN (or anything above `threshold`) for a non-pair.
 * `candidates` may narrow each frame's pairs to those that can be within the threshold (a
 * spatial index does for points), so a crowded frame costs near its matches, not objects × hypotheses.
 */
export function clearMot<T>(frames: Iterable<FrameData<T>>, distance: (o: T, h: T) => number, threshold: number, candidates: CandidatePairs<T> = allPairs): ClearMotResult {
  const valid = (d: number) => Number.isFinite(d) && d <= threshold;
  const last = new Map<string, string>(); // object → hypothesis it was last matched to
  const history = new Map<string, boolean[]>(); // object → matched? per frame it was present
  const cooc = new Map<string, number>(); // `${o}\u0000${h}` → frames within the threshold
  const objFrames = new Map<string, number>();
  const hypFrames = new Map<string, number>();
  let [nframes, nobj, nhyp, matches, misses, fps, switches] = [0, 0, 0, 0, 0, 0, 0];
  const dists: number[] = [];
  const matched: { frame: number; object: number; hypothesis: number; distance: number }[] = [];
  for (const f of frames) {
    nframes++;
    nobj += f.objects.length;
    nhyp += f.hypotheses.length;
    // Distances of the pairs within the threshold, by i · hypotheses + j.
    const m = f.hypotheses.length;
    const near = new Map<number, number>();
    for (const [i, j] of candidates(f)) {
      const d = distance(f.objects[i]!.value, f.hypotheses[j]!.value);
      if (valid(d)) near.set(i * m + j, d);
    }
    const D = (i: number, j: number) => near.get(i * m + j) ?? NaN;
    for (const o of f.objects) objFrames.set(o.id, (objFrames.get(o.id) ?? 0) + 1);
    for (const k of near.keys()) {
      const key = `${f.objects[Math.floor(k / m)]!.id}\u0000${f.hypotheses[k % m]!.id}`;
      cooc.set(key, (cooc.get(key) ?? 0) + 1);
    }
    for (const h of f.hypotheses) hypFrames.set(h.id, (hypFrames.get(h.id) ?? 0) + 1);
    const oTaken = new Array<boolean>(f.objects.length).fill(false);
    const hTaken = new Array<boolean>(f.hypotheses.length).fill(false);
    const match = (i: number, j: number) => {
      oTaken[i] = true;
      hTaken[j] = true;
      matches++;
      dists.push(D(i, j));
      matched.push({ frame: nframes - 1, object: i, hypothesis: j, distance: D(i, j) });
      const oid = f.objects[i]!.id;
      const hid = f.hypotheses[j]!.id;
      if (last.has(oid) && last.get(oid) !== hid) switches++;
      last.set(oid, hid);
    };
    // 1. Matches that continue from the previous frame.
    const hypIndex = new Map<string, number>();
    f.hypotheses.forEach((h, j) => {
      if (!hypIndex.has(h.id)) hypIndex.set(h.id, j);
    });
    f.objects.forEach((o, i) => {
      const prev = last.get(o.id);
      if (prev === undefined) return;
      const j = hypIndex.get(prev);
      if (j !== undefined && !hTaken[j] && valid(D(i, j))) match(i, j);
    });
    // 2. The rest by minimum total distance.
    if (oTaken.includes(false) && hTaken.includes(false)) {
      // Most pairs are beyond the threshold: solve only the clusters that valid pairs link.
      const edges: { row: number; col: number; cost: number }[] = [];
      for (const [k, d] of near) {
        const [i, j] = [Math.floor(k / m), k % m];
        if (!oTaken[i] && !hTaken[j]) edges.push({ row: i, col: j, cost: d });
      }
      edges.sort((a, b) => a.row - b.row || a.col - b.col);
      for (const [i, j] of assignSparse(edges)) match(i, j);
    }
    f.objects.forEach((o, i) => {
      if (!oTaken[i]) misses++;
      const h = history.get(o.id);
      if (h) h.push(oTaken[i]!);
      else history.set(o.id, [oTaken[i]!]);
    });
    fps += hTaken.filter((t) => !t).length;
  }
  // Fragmentations: a tracked object going untracked, between its first and last match.
  let frags = 0;
  let [mt, pt, ml] = [0, 0, 0];
  for (const h of history.values()) {
    const first = h.indexOf(true);
    const lastIdx = h.lastIndexOf(true);
    if (first >= 0) for (let k = first + 1; k <= lastIdx; k++) if (!h[k] && h[k - 1]) frags++;
    const ratio = h.filter(Boolean).length / h.length;
    if (ratio >= 0.8) mt++;
    else if (ratio >= 0.2) pt++;
    else ml++;
  }
  // IDF1: one-to-one identities maximising co-occurrence within the threshold.
  const oids = [...objFrames.keys()];
  const hids = [...hypFrames.keys()];
  let idtp = 0;
  if (oids.length && hids.length) {
    const cost = oids.map((o) => hids.map((h) => -(cooc.get(`${o}\u0000${h}`) ?? 0)));
    for (const [a, b] of munkres(cost)) idtp -= cost[a]![b]!;
  }
  const idfn = nobj - idtp;
  const idfp = nhyp - idtp;
  return {
    frames: nframes,
    objects: nobj,
    hypotheses: nhyp,
    matches,
    misses,
    false_positives: fps,
    switches,
    fragmentations: frags,
    mota: nobj ? 1 - (misses + fps + switches) / nobj : 0,
    motp: matches ? dists.reduce((a, b) => a + b, 0) / matches : 0,
    recall: nobj ? matches / nobj : 0,
    precision: nhyp ? matches / nhyp : 0,
    idtp,
    idf1: nobj + nhyp ? (2 * idtp) / (2 * idtp + idfp + idfn) : 0,
    idp: nhyp ? idtp / nhyp : 0,
    idr: nobj ? idtp / nobj : 0,
    unique_objects: oids.length,
    mostly_tracked: mt,
    partially_tracked: pt,
    mostly_lost: ml,
    matched_distances: dists,
    matched,
  };
}
