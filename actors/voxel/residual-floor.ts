/**
 * Each camera's pixel error beyond its detections' own noise, learned from its views'
 * residuals: a camera standing off its calibration (a fraction of a degree), or off the site's
 * clock, puts its detections of a target consistently beside where the other cameras' point
 * projects, which no detection's covariance accounts for. Association that trusts pixels more
 * than the rig deserves splits one drone's views into ghosts and identity switches (README,
 * "Calibration accuracy"). The stage adds what this learns to the camera's detection
 * variances, on top of the configured floor.
 *
 * The estimate: over a camera's recent views of established tracks' points of three views or
 * more, the median of the squared residual per axis, scaled from the median of a χ² of two
 * degrees of freedom to a variance (÷ ln 2), and corrected for the point's own pull toward the
 * view (1 − 3/2n for n views); less the views' own pixel variance (median). A median, so
 * wrong associations, a small share, do not move it.
 */

import { median } from '../../util/percentiles.js';

/** How many recent views a camera's estimate is taken over. */
const WINDOW = 1024;
/** The estimate waits for this many views, and is redone after as many new ones. */
const MIN_VIEWS = 256;

/** Per camera (by index): recent residuals and the excess variance they imply. */
export class ResidualFloor {
  readonly #residual: Float64Array[];
  readonly #noise: Float64Array[];
  readonly #seen: number[];
  readonly #excess: number[];
  /** The floors last reported by changes(), by camera. */
  readonly #reported: number[] = [];

  constructor(cameras: number) {
    this.#residual = Array.from({ length: cameras }, () => new Float64Array(WINDOW));
    this.#noise = Array.from({ length: cameras }, () => new Float64Array(WINDOW));
    this.#seen = new Array<number>(cameras).fill(0);
    this.#excess = new Array<number>(cameras).fill(0);
  }

  /**
   * One view of camera `c` in a point of `views` views: its squared residual (px², both axes
   * together) and its detection's own variance (px², the two axes summed).
   */
  add(c: number, residual2: number, noiseVar: number, views: number): void {
    if (!(views >= 3) || !Number.isFinite(residual2) || !Number.isFinite(noiseVar)) return;
    const k = this.#seen[c]! % WINDOW;
    this.#residual[c]![k] = residual2 / 2 / (1 - 3 / (2 * views));
    this.#noise[c]![k] = noiseVar / 2;
    this.#seen[c]!++;
    if (this.#seen[c]! >= MIN_VIEWS && this.#seen[c]! % MIN_VIEWS === 0) {
      const n = Math.min(this.#seen[c]!, WINDOW);
      this.#excess[c] = Math.max(0, median(this.#residual[c]!.subarray(0, n)) / Math.LN2 - median(this.#noise[c]!.subarray(0, n)));
    }
  }

  /**
   * The cameras whose floor — the larger of `configured` and what was learned — has moved past
   * twice or half what was last reported (at first, the configured floor): each change once.
   */
  changes(configured: number): { camera: number; floor: number }[] {
    const out: { camera: number; floor: number }[] = [];
    for (let c = 0; c < this.#excess.length; c++) {
      const now = Math.max(configured, this.#excess[c]!);
      const was = this.#reported[c] ?? configured;
      if (now <= 2 * was && now >= was / 2) continue;
      this.#reported[c] = now;
      out.push({ camera: c, floor: now });
    }
    return out;
  }

  /** Whether camera `c`'s views have taught it a floor yet. */
  learnt(c: number): boolean {
    return this.#seen[c]! >= MIN_VIEWS;
  }

  /** Camera `c`'s pixel variance (px², per axis) beyond its detections' own; 0 until learned. */
  excess(c: number): number {
    return this.#excess[c]!;
  }
}

/** A voted point's disagreement is taken as the rig's only when the floor it calls for exceeds its pixel noise and the configured floor by this factor. */
const VOTED_SIGNIFICANCE = 4;
/** EM iterations of the voted points' mixture. */
const EM_ROUNDS = 40;

/**
 * The rig's pixel error as its voted points show it, before any track can teach ResidualFloor:
 * a rig off its calibration by more than its detections' noise — a hundredth of a degree is
 * two pixels behind a narrow lens — has every new object's views fail the triangulation's
 * residual test, so no track forms, no established track's views teach the per-camera floors
 * and no turn is found. Each voted point of two views (a voxel peak's detections),
 * triangulated with unit weights, leaves a residual r (px) across the two cameras' epipolar
 * geometry: a true object's is half-normal with the rig's scale s, a ghost's — rays of two
 * objects crossing in a voxel, most voted points in a crowded sky — anywhere up to the voxel's
 * size in pixels. The two are told apart as a mixture (EM: a half-normal and a uniform), and
 * the floor is the smallest pixel variance that lets 95 % of the true points' views
 * through the residual test. One figure for the whole rig, a bootstrap: once tracks form, each
 * camera's own floor and turns take over, and the voted points' residuals shrink with them.
 */
export class VotedFloor {
  readonly #r = new Float64Array(WINDOW);
  readonly #noise = new Float64Array(WINDOW);
  #seen = 0;
  /** The true voted points' residual variance (px², χ² of 1 degree of freedom's scale) and the views' own noise (px², per axis). */
  #scale2 = 0;
  #noiseMedian = 0;

  /** One voted point of two views: its summed squared residual with unit weights (px²) and its detections' mean own variance (px², per axis). */
  add(residual2: number, noiseVar: number): void {
    if (!Number.isFinite(residual2) || !Number.isFinite(noiseVar)) return;
    const k = this.#seen % WINDOW;
    this.#r[k] = Math.sqrt(residual2);
    this.#noise[k] = noiseVar;
    this.#seen++;
    if (this.#seen >= MIN_VIEWS && this.#seen % (MIN_VIEWS / 2) === 0) {
      const n = Math.min(this.#seen, WINDOW);
      this.#scale2 = trueScale2(this.#r.subarray(0, n));
      this.#noiseMedian = median(this.#noise.subarray(0, n));
    }
  }

  /**
   * The pixel variance (px², per axis) beyond the detections' own that lets the true voted
   * points' views through a residual test of `residualChi2` — once it stands well above their
   * noise and `configured`; else 0.
   */
  excess(configured: number, residualChi2: number): number {
    // A two-view point's summed squared residual is σ²·χ²₁, each view's about half of it.
    const floor = (CHI2_1_QUANTILE * this.#scale2) / (2 * residualChi2);
    return floor > VOTED_SIGNIFICANCE * (this.#noiseMedian + configured) ? floor - this.#noiseMedian : 0;
  }
}

/** χ²₁'s 95 % point: the share of true voted points whose views the floor lets through the residual test. */
const CHI2_1_QUANTILE = 3.841;

/** The scale² of the half-normal part of residuals `r` mixed with a uniform part up to their largest (EM); 0 when there is none. */
function trueScale2(r: Float64Array): number {
  const sorted = Float64Array.from(r).sort();
  const top = sorted[sorted.length - 1]!;
  if (!(top > 0)) return 0;
  let s2 = Math.max(sorted[Math.floor(sorted.length / 10)]! ** 2, 1e-8);
  let share = 0.5;
  for (let round = 0; round < EM_ROUNDS; round++) {
    const norm = Math.sqrt(2 / (Math.PI * s2));
    let w = 0;
    let wr2 = 0;
    for (const x of r) {
      const a = share * norm * Math.exp((-x * x) / (2 * s2));
      const p = a / (a + (1 - share) / top);
      w += p;
      wr2 += p * x * x;
    }
    if (!(w > 1e-9)) return 0;
    s2 = Math.max(wr2 / w, 1e-8);
    share = w / r.length;
  }
  return s2;
}
