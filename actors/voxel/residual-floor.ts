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

  /** Camera `c`'s pixel variance (px², per axis) beyond its detections' own; 0 until learned. */
  excess(c: number): number {
    return this.#excess[c]!;
  }
}
