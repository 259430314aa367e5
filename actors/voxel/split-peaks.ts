/**
 * A voxel peak is one voxel, and the voxel stage's voxels are coarse (metres): objects closer
 * than a voxel or two — a formation, a flock — give one peak between them, and one point for
 * all of them, midway and wrong. Where a peak's gate holds more than one detection in enough
 * cameras for a second object, the peak is replaced by what its detections say: a point is hypothesised from each
 * pairing of two cameras' gated detections (the camera pairs that cross most steeply first),
 * verified by the other cameras (their gated detection likeliest at its projection, within
 * the gate of the point's own covariance), and the best-supported points whose detections are
 * disjoint are kept — most views first, then the smallest reprojection error — one hypothesis
 * per object the detections explain, each as precise as its triangulation.
 */
import { triangulate, triangulateRobust, type Triangulated, type View } from '../../geometry/triangulate.js';
import type { Vec3 } from '../../geometry/vec3.js';
import { type AssociationOptions, detectionRay, detectionView, gateCost, gatedDetections, type Hypothesis, imageGate, type PairDetections } from './associate.js';
import type { RayObservation } from '../../geometry/ray-point.js';

/** A point some detections agree on: [pair index, detection index] per view. */
interface Agreement {
  picks: [number, number][];
  result: Triangulated;
}

/** The angle at `p` between the directions to two camera centres (radians). */
function angleAt(p: Vec3, a: Vec3, b: Vec3): number {
  const u = [a[0] - p[0], a[1] - p[1], a[2] - p[2]];
  const v = [b[0] - p[0], b[1] - p[1], b[2] - p[2]];
  const c = (u[0]! * v[0]! + u[1]! * v[1]! + u[2]! * v[2]!) / (Math.hypot(u[0]!, u[1]!, u[2]!) * Math.hypot(v[0]!, v[1]!, v[2]!));
  return Math.acos(Math.max(-1, Math.min(1, c)));
}

/**
 * Whether two detections' rays pass close enough to be one object near `p`: their distance
 * apart against the angular noise of each at its range from `p`. A few operations where a
 * triangulation is many, so a crowd's pairings are mostly turned down before one.
 */
function raysMeet(a: RayObservation, b: RayObservation, p: Vec3, chi2: number): boolean {
  const [ax, ay, az] = a.dir;
  const [bx, by, bz] = b.dir;
  const nx = ay * bz - az * by;
  const ny = az * bx - ax * bz;
  const nz = ax * by - ay * bx;
  const n2 = nx * nx + ny * ny + nz * nz;
  // Near-parallel rays meet anywhere along them: let the triangulation judge.
  if (n2 < 1e-12) return true;
  const gap = (b.origin[0] - a.origin[0]) * nx + (b.origin[1] - a.origin[1]) * ny + (b.origin[2] - a.origin[2]) * nz;
  const ra2 = (p[0] - a.origin[0]) ** 2 + (p[1] - a.origin[1]) ** 2 + (p[2] - a.origin[2]) ** 2;
  const rb2 = (p[0] - b.origin[0]) ** 2 + (p[1] - b.origin[1]) ** 2 + (p[2] - b.origin[2]) ** 2;
  // Ranges from a peak a voxel or two off: doubled, so the test never turns down a pairing the triangulation would keep.
  return (gap * gap) / n2 <= 4 * chi2 * (a.angleVar * ra2 + b.angleVar * rb2);
}

/** The points one crowded peak's gated detections agree on (gated[pi]: pair pi's detection indices). */
function agreements(peak: Hypothesis, gated: readonly number[][], pairs: readonly PairDetections[], o: AssociationOptions, maxPairings: number, out: Agreement[]): void {
  const cams = gated.flatMap((list, pi) => (list.length > 0 ? [pi] : []));
  if (cams.length < o.minViews) return;
  const seeds: [number, number, number][] = [];
  for (let x = 0; x < cams.length; x++) for (let y = x + 1; y < cams.length; y++) seeds.push([cams[x]!, cams[y]!, angleAt(peak.position, pairs[cams[x]!]!.camera.center, pairs[cams[y]!]!.camera.center)]);
  // A right angle crossing pins depth best; near-parallel rays agree on almost anything.
  seeds.sort((s, t) => Math.abs(s[2] - Math.PI / 2) - Math.abs(t[2] - Math.PI / 2));
  const rays = gated.map((list, pi) => list.map((j) => detectionRay(pairs[pi]!, j, o.pixelVarFloor)));
  // A detection three views or more already agree on is not tried again from another pair of
  // cameras: with n cameras each object would otherwise be found n(n − 1)/2 times over.
  const settled = gated.map((list) => new Uint8Array(list.length));
  let budget = maxPairings;
  for (const [a, b] of seeds) {
    const pairings = gated[a]!.length * gated[b]!.length;
    if (pairings > budget) continue;
    budget -= pairings;
    for (const [x, i] of gated[a]!.entries()) {
      for (const [y, j] of gated[b]!.entries()) {
        if (settled[a]![x] || settled[b]![y]) continue;
        if (!raysMeet(rays[a]![x]!, rays[b]![y]!, peak.position, o.residualChi2)) continue;
        const two = triangulate([detectionView(pairs[a]!, i, o.pixelVarFloor), detectionView(pairs[b]!, j, o.pixelVarFloor)]);
        if (!two || two.residuals.some((r) => r > o.residualChi2)) continue;
        const picks: [number, number][] = [
          [a, i],
          [b, j],
        ];
        for (const c of cams) {
          if (c === a || c === b) continue;
          const g = imageGate(pairs[c]!.camera, two, o);
          if (!g) continue;
          let best = -1;
          let bestCost = Infinity;
          for (const k of gated[c]!) {
            const cost = gateCost(g, pairs[c]!.blobs, k, o);
            if (cost < bestCost) (best = k), (bestCost = cost);
          }
          if (best >= 0) picks.push([c, best]);
        }
        if (picks.length === 2) {
          out.push({ picks, result: two });
          continue;
        }
        const views: View[] = picks.map(([pi, k]) => detectionView(pairs[pi]!, k, o.pixelVarFloor));
        const t = triangulateRobust(views, o.residualChi2, o.minViews);
        if (!t) continue;
        const kept = t.kept.map((k) => picks[k]!);
        out.push({ picks: kept, result: t.result });
        if (kept.length >= 3) for (const [pi, k] of kept) settled[pi]![gated[pi]!.indexOf(k)] = 1;
      }
    }
  }
}

/**
 * The peaks as hypotheses, each crowded one (more than one gated detection in minViews cameras or more)
 * replaced by the points its detections agree on; `maxPairings` bounds the two-camera pairings
 * tried per peak (0: peaks are kept as they are).
 */
export function splitCrowdedPeaks(peaks: readonly Hypothesis[], pairs: readonly PairDetections[], o: AssociationOptions, maxPairings: number): Hypothesis[] {
  if (maxPairings <= 0 || peaks.length === 0) return [...peaks];
  const gated: number[][][] = peaks.map(() => pairs.map(() => []));
  for (const [pi, pair] of pairs.entries()) for (const e of gatedDetections(peaks, pair, o)) gated[e.row]![pi]!.push(e.col);
  const out: Hypothesis[] = [];
  const found: Agreement[] = [];
  for (const [hi, peak] of peaks.entries()) {
    // A second object needs views of its own in minViews cameras: with fewer cameras holding
    // two detections or more, the peak is one object at most, and the plain association (the
    // detection nearest the peak in each camera, outliers dropped) finds it.
    if (gated[hi]!.filter((list) => list.length > 1).length < o.minViews) out.push(peak);
    else agreements(peak, gated[hi]!, pairs, o, maxPairings, found);
  }
  // Across peaks too: neighbouring peaks gate the same detections.
  found.sort((x, y) => y.picks.length - x.picks.length || x.result.chi2 - y.result.chi2);
  const used = new Set<number>();
  const key = ([pi, j]: [number, number]) => j * pairs.length + pi;
  for (const f of found) {
    if (f.picks.some((p) => used.has(key(p)))) continue;
    for (const p of f.picks) used.add(key(p));
    out.push({ position: f.result.position, covariance: f.result.covariance, singleView: false });
  }
  return out;
}
