/**
 * Each camera's pointing, refined from its views of tracked targets: a camera turned a fraction
 * of a degree off its calibration (a mount settling, a mast in the sun) images every target
 * beside where the other cameras' point projects, and the part of that error a shift of the
 * point explains stays in the 3D positions as a bias no filter averages away (README,
 * "Calibration accuracy"). The learned floor (residual-floor.ts) only widens the camera's
 * variances; this finds the turns themselves and the stage undoes them.
 *
 * A bundle adjustment with the camera centres fixed: over a batch of established tracks'
 * points, each with its views, the small turn ω of every camera about its own axes and the
 * shift of every point that together best explain the residuals (weighted least squares, one
 * Gauss–Newton step; each residual's weight capped beyond three standard deviations, as a few
 * wrong matches would otherwise pull it). The points are eliminated as they come (Schur
 * complement), so a batch costs a (3 × cameras)² matrix whatever its size. Solving cameras and
 * points together matters: fitting one camera at a time against points its neighbours' errors
 * have already moved converges over tens of seconds, as each camera sees only what the others
 * do not share. What the whole rig could turn together without its views disagreeing is held
 * by a weak prior toward the calibration as written (PRIOR_DEG); the rig's fixed centres
 * resolve it only as well as their baselines against the targets' range allow.
 *
 * Two fits run side by side. The fine one takes points of three views or more (two on a rig of
 * two pairs) and turns a camera on a few standard deviations of evidence: a point of two views
 * can be a ghost (two objects' rays crossing), and a crowd of birds' ghosts, matched to
 * whatever lies near in a third camera, looks enough like a turn to pass a test that fine. The
 * coarse one also takes points of two views, which are most of what a grossly misaligned rig
 * has (its third views miss the association), and turns the rig only on overwhelming evidence
 * (COARSE_SIGMAS), so that such a rig is set right in its first second, not its third.
 */
import { inverse, mat } from '../../geometry/matrix.js';
import { invert3, type Vec3 } from '../../geometry/vec3.js';
import { median } from '../../util/percentiles.js';

/** One camera's view of a point: residual (detected − projected, px), its Jacobians by the point (2×3) and by the camera's turn (2×3), and the residual's variance per axis (px²). */
export interface TurnView {
  camera: number;
  du: number;
  dv: number;
  Jp: readonly number[];
  Jt: readonly number[];
  variance: number;
}

/** Points a batch is solved over. */
const BATCH_POINTS = 64;
/** What a batch that turned nothing leaves of its evidence to the next (the rest fades): small turns add up over batches. */
const KEEP = 0.75;
/** A camera is turned only when the batch held at least this many of its views. */
const MIN_CAMERA_VIEWS = 32;
/** The fine fit turns the rig when its χ² stands this many of its standard deviations above its degrees of freedom. */
const FINE_SIGMAS = 6;
/** The coarse fit (points of two views too), only beyond this many. */
const COARSE_SIGMAS = 50;
/** A camera is turned only when its turn moves its image by at least this much (px): smaller is below any detection's noise. */
const MIN_TURN_PX = 0.05;
/** A camera's turn is first reported once it moves its image this much (px). */
const FIRST_REPORT_PX = 0.1;
/** A residual beyond this many standard deviations has its weight capped (Huber). */
const HUBER = 3;
/** How far off the calibration as written a camera is expected to stand, at most (degrees): the prior that holds what the views cannot resolve. */
const PRIOR_DEG = 1;
/** Levenberg damping, relative to each camera's own diagonal: a turn its views barely show stays small. */
const DAMPING = 1e-3;

/** A point's views as the fit weighed them, kept for the batch's scale. */
interface WeighedPoint {
  views: readonly TurnView[];
  weights: number[];
  Hinv: readonly number[];
}

/** One fit's evidence: the reduced camera system over its batches' points. */
class TurnFit {
  readonly #n: number;
  readonly #sigmas: number;
  /** The reduced camera system (3n × 3n, row-major) and its right-hand side. */
  readonly #S: Float64Array;
  readonly #g: Float64Array;
  readonly #views: Float64Array;
  #points = 0;
  /** This batch's points, for the residuals' scale once the turns are solved. */
  #batch: WeighedPoint[] = [];

  constructor(cameras: number, sigmas: number) {
    this.#n = cameras;
    this.#sigmas = sigmas;
    this.#S = new Float64Array(9 * cameras * cameras);
    this.#g = new Float64Array(3 * cameras);
    this.#views = new Float64Array(cameras);
  }

  /** Adds one point's views; true once a batch is full and wants solving. */
  add(views: readonly TurnView[]): boolean {
    const n3 = 3 * this.#n;
    const m = views.length;
    const S = this.#S;
    const g = this.#g;
    const Hpp = [0, 0, 0, 0, 0, 0, 0, 0, 0];
    const gp = [0, 0, 0];
    // Per view a: B_a = w·Jtᵀ·Jp (3×3, row-major, at 9a) and its weight.
    const B = new Float64Array(9 * m);
    const weights: number[] = [];
    for (let a = 0; a < m; a++) {
      const v = views[a]!;
      const Jp = v.Jp;
      const Jt = v.Jt;
      const r = Math.sqrt((v.du * v.du + v.dv * v.dv) / v.variance);
      const w = (r > HUBER ? HUBER / r : 1) / v.variance;
      weights.push(w);
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          Hpp[i * 3 + j]! += w * (Jp[i]! * Jp[j]! + Jp[3 + i]! * Jp[3 + j]!);
          B[9 * a + i * 3 + j] = w * (Jt[i]! * Jp[j]! + Jt[3 + i]! * Jp[3 + j]!);
        }
        gp[i]! += w * (Jp[i]! * v.du + Jp[3 + i]! * v.dv);
      }
    }
    const Hinv = invert3(Hpp as unknown as Parameters<typeof invert3>[0]);
    if (!Hinv) return false;
    // K_a = B_a·Hpp⁻¹; the point eliminated: S_ab −= K_a·B_bᵀ, g_a −= K_a·gp.
    const K = new Float64Array(9 * m);
    for (let a = 0; a < m; a++) {
      for (let i = 0; i < 3; i++) {
        const b0 = B[9 * a + i * 3]!, b1 = B[9 * a + i * 3 + 1]!, b2 = B[9 * a + i * 3 + 2]!;
        for (let j = 0; j < 3; j++) K[9 * a + i * 3 + j] = b0 * Hinv[j]! + b1 * Hinv[3 + j]! + b2 * Hinv[6 + j]!;
      }
    }
    for (let a = 0; a < m; a++) {
      const va = views[a]!;
      const Jt = va.Jt;
      const ca = 3 * va.camera;
      const w = weights[a]!;
      for (let i = 0; i < 3; i++) {
        const ki = 9 * a + i * 3;
        g[ca + i]! += w * (Jt[i]! * va.du + Jt[3 + i]! * va.dv) - (K[ki]! * gp[0]! + K[ki + 1]! * gp[1]! + K[ki + 2]! * gp[2]!);
        for (let j = 0; j < 3; j++) S[(ca + i) * n3 + ca + j]! += w * (Jt[i]! * Jt[j]! + Jt[3 + i]! * Jt[3 + j]!);
      }
      for (let b = 0; b < m; b++) {
        const cb = 3 * views[b]!.camera;
        for (let i = 0; i < 3; i++) {
          const k0 = K[9 * a + i * 3]!, k1 = K[9 * a + i * 3 + 1]!, k2 = K[9 * a + i * 3 + 2]!;
          const row = (ca + i) * n3 + cb;
          for (let j = 0; j < 3; j++) S[row + j]! -= k0 * B[9 * b + j * 3]! + k1 * B[9 * b + j * 3 + 1]! + k2 * B[9 * b + j * 3 + 2]!;
        }
      }
      this.#views[va.camera]!++;
    }
    this.#batch.push({ views, weights, Hinv });
    return ++this.#points % BATCH_POINTS === 0;
  }

  /**
   * The turns the evidence calls for (radians, by camera; undefined for a camera left as it is),
   * when significant; `total` is each camera's turn so far, which the prior holds near 0.
   */
  solve(total: readonly Vec3[], focal: readonly number[]): (Vec3 | undefined)[] | undefined {
    const n3 = 3 * this.#n;
    const prior = 1 / ((PRIOR_DEG * Math.PI) / 180) ** 2;
    const A = Array.from(this.#S);
    const g = Array.from(this.#g);
    for (let c = 0; c < this.#n; c++) {
      const d = (DAMPING * (A[3 * c * n3 + 3 * c]! + A[(3 * c + 1) * n3 + 3 * c + 1]! + A[(3 * c + 2) * n3 + 3 * c + 2]!)) / 3;
      for (let i = 0; i < 3; i++) {
        A[(3 * c + i) * n3 + 3 * c + i]! += d + prior;
        g[3 * c + i]! -= prior * total[c]![i]!;
      }
    }
    const inv = inverse(mat(n3, n3, A));
    if (!inv) return undefined;
    const omega = new Array<number>(n3).fill(0);
    for (let i = 0; i < n3; i++) for (let j = 0; j < n3; j++) omega[i]! += inv.inv.v[i * n3 + j]! * g[j]!;
    // χ² of the turns: how much of the residuals' weighted sum of squares they explain.
    let chi2 = 0;
    let dof = 0;
    for (let i = 0; i < n3; i++) chi2 += omega[i]! * g[i]!;
    for (let c = 0; c < this.#n; c++) if (this.#views[c]! > 0) dof += 3;
    const scale = this.#scale(omega);
    this.#batch = [];
    if (!(chi2 / scale > dof + this.#sigmas * Math.sqrt(2 * dof))) return undefined;
    const turns = Array.from({ length: this.#n }, (_, c): Vec3 | undefined => {
      const t: Vec3 = [omega[3 * c]!, omega[3 * c + 1]!, omega[3 * c + 2]!];
      return this.#views[c]! < MIN_CAMERA_VIEWS || Math.hypot(...t) * focal[c]! < MIN_TURN_PX ? undefined : t;
    });
    return turns.some((t) => t) ? turns : undefined;
  }

  /**
   * How much larger than their variances say the batch's residuals are once the turns and the
   * points' shifts have taken what they explain: the median against a χ² of 2 degrees of
   * freedom's (so wrong matches do not set it), at least 1. The pixel variances the stage knows
   * can leave out what it does not model (parallax, clocks, a crowd's blended blobs), and a χ²
   * against them alone would take that for a turn.
   */
  #scale(omega: readonly number[]): number {
    const fitted: number[] = [];
    for (const p of this.#batch) {
      const e = p.views.map((v) => {
        const c = 3 * v.camera;
        return [v.du - (v.Jt[0]! * omega[c]! + v.Jt[1]! * omega[c + 1]! + v.Jt[2]! * omega[c + 2]!), v.dv - (v.Jt[3]! * omega[c]! + v.Jt[4]! * omega[c + 1]! + v.Jt[5]! * omega[c + 2]!)] as const;
      });
      const gp = [0, 0, 0];
      for (const [k, v] of p.views.entries()) for (let i = 0; i < 3; i++) gp[i]! += p.weights[k]! * (v.Jp[i]! * e[k]![0] + v.Jp[3 + i]! * e[k]![1]);
      const shift = [0, 1, 2].map((i) => p.Hinv[i * 3]! * gp[0]! + p.Hinv[i * 3 + 1]! * gp[1]! + p.Hinv[i * 3 + 2]! * gp[2]!);
      // The point's fit takes 3 of its views' 2n degrees of freedom.
      const share = 1 - 3 / (2 * p.views.length);
      for (const [k, v] of p.views.entries()) {
        const eu = e[k]![0] - (v.Jp[0]! * shift[0]! + v.Jp[1]! * shift[1]! + v.Jp[2]! * shift[2]!);
        const ev = e[k]![1] - (v.Jp[3]! * shift[0]! + v.Jp[4]! * shift[1]! + v.Jp[5]! * shift[2]!);
        fitted.push((eu * eu + ev * ev) / v.variance / share);
      }
    }
    return Math.max(1, median(fitted) / (2 * Math.LN2));
  }

  /** Keeps `share` of the evidence (0: none, after the cameras turned and it no longer describes them). */
  fade(share: number): void {
    for (let i = 0; i < this.#S.length; i++) this.#S[i] = this.#S[i]! * share;
    for (let i = 0; i < this.#g.length; i++) this.#g[i] = this.#g[i]! * share;
    for (let c = 0; c < this.#n; c++) this.#views[c] = this.#views[c]! * share;
    this.#points = 0;
    this.#batch = [];
  }
}

/** The rig's cameras' turns off their calibration, fitted from their views of points. */
export class TurnCalibration {
  readonly #fine: TurnFit;
  /** The coarse fit, on a rig whose fine fit leaves out points of two views. */
  readonly #coarse: TurnFit | undefined;
  /** Views a point needs for the fine fit. */
  readonly fineViews: number;
  readonly #focal: number[];
  readonly #total: [number, number, number][];
  readonly #reported: number[] = [];

  /** `focal`: each camera's focal length (px), to say in pixels how far a turn moves its image. */
  constructor(focal: readonly number[]) {
    this.#focal = [...focal];
    this.#total = focal.map(() => [0, 0, 0]);
    this.fineViews = Math.min(3, focal.length);
    this.#fine = new TurnFit(focal.length, FINE_SIGMAS);
    this.#coarse = this.fineViews > 2 ? new TurnFit(focal.length, COARSE_SIGMAS) : undefined;
  }

  /**
   * One point's views (at most one a camera). Returns, once a batch calls for it, the turn to
   * apply now to each camera (radians about its own axes; undefined for one left as it is).
   */
  addPoint(views: readonly TurnView[]): (Vec3 | undefined)[] | undefined {
    if (views.length < 2) return undefined;
    let turns: (Vec3 | undefined)[] | undefined;
    for (const fit of views.length >= this.fineViews ? [this.#fine, this.#coarse] : [this.#coarse]) {
      if (!fit?.add(views) || turns) continue;
      turns = fit.solve(this.#total, this.#focal);
      if (!turns) fit.fade(KEEP);
    }
    if (!turns) return undefined;
    // Views of turned cameras say nothing of their new pointing.
    this.#fine.fade(0);
    this.#coarse?.fade(0);
    for (const [c, t] of turns.entries()) {
      if (!t) continue;
      const total = this.#total[c]!;
      for (let a = 0; a < 3; a++) total[a] = total[a]! + t[a]!;
    }
    return turns;
  }

  /**
   * The cameras whose total turn so far has grown past twice what was last reported (at first,
   * past FIRST_REPORT_PX), or shrunk below half: each once, with the turn in degrees and in
   * pixels at its focal length.
   */
  changes(): { camera: number; turn_deg: number; turn_px: number }[] {
    const out: { camera: number; turn_deg: number; turn_px: number }[] = [];
    for (let c = 0; c < this.#total.length; c++) {
      const angle = Math.hypot(...this.#total[c]!);
      const px = angle * this.#focal[c]!;
      const was = this.#reported[c];
      if (was === undefined ? px <= FIRST_REPORT_PX : px <= 2 * was && px >= was / 2) continue;
      this.#reported[c] = px;
      out.push({ camera: c, turn_deg: (angle * 180) / Math.PI, turn_px: px });
    }
    return out;
  }

  /**
   * Starts camera `c` at a turn learnt before (radians about its axes; a restarted stage's): its
   * views are fitted from there on, and it is reported only once it moves on from it.
   */
  seed(c: number, total: Vec3): void {
    this.#total[c] = [total[0], total[1], total[2]];
    const px = Math.hypot(...total) * this.#focal[c]!;
    if (px > FIRST_REPORT_PX) this.#reported[c] = px;
    this.#fine.fade(0);
    this.#coarse?.fade(0);
  }

  /** Camera `c`'s turns applied so far, summed (radians about its axes; small turns add). */
  total(c: number): Vec3 {
    return this.#total[c]!;
  }
}
