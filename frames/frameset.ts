/**
 * Framesets: the views of one instant from every camera, grouped by (site-clock) time within
 * a tolerance. A set goes out when every camera has reported or when it has waited long
 * enough — or as soon as each missing camera's view of a later instant has come, since one
 * camera's views arrive in order and the missing one is lost (a dropped frame); then
 * processing continues with the views that arrived. Sets go out in time order.
 * Views that arrive after their set left are late; cameras absent from a set are missing.
 *
 * With a primary camera (fusion: the mono view a pair's detections are made of), a set exists
 * for its primary view: the other views of an instant wait up to `holdMs` for it, however long
 * the primary's own processing takes (an 8K frame's motion pass lags its thermal twin's by far
 * more than `maxWaitMs`), and the set's `maxWaitMs` starts when the primary view arrives. Views
 * whose primary view never comes (a dropped frame: the primary's later view arrived first, as
 * one camera's views arrive in order) are unpaired, dropped and counted.
 */

export interface FramesetOptions {
  cameras: readonly string[];
  /** Views within this much of a set's first view belong to it (ns). */
  toleranceNs: bigint;
  /** How long a set waits for missing views once opened (ms). */
  maxWaitMs: number;
  /** The camera every set must hold; sets open when its view arrives. */
  primary?: string;
  /** With a primary: how long other views wait for the primary view of their instant (ms). */
  holdMs?: number;
}

export interface Frameset<T> {
  /** Mean time of the views (ns). */
  t_ns: bigint;
  views: Map<string, T>;
  missing: string[];
}

export interface FramesetStats {
  sets: number;
  complete: number;
  /** Camera-views absent from emitted sets. */
  missing: number;
  /** Views dropped because their instant's primary view never came. */
  unpaired: number;
  /** Views that came after their set had gone. */
  late: number;
  /** Views from cameras not in the list. */
  unknown: number;
  /** A camera reporting twice for one instant. */
  duplicate: number;
}

/** A camera whose views sit at about the same offset from the instants, beyond half the tolerance: a clock out of step. */
export interface SkewedCamera {
  cam: string;
  /** Median offset of its views from the instants (ms; positive: its stamps are later). */
  offset_ms: number;
  /** Share of its recent instants with a view that far off. */
  share: number;
}

/** Instants per camera the skew verdict looks back over, and the share of them with a view that a verdict needs. */
const SKEW_WINDOW = 100;
const SKEW_SHARE = 0.5;
/** A camera's view within this of an instant it missed is its view of that instant (ns): beyond it, a dropped frame. */
const SKEW_REACH_NS = 500_000_000n;

interface Pending<T> {
  t0: bigint;
  createdMs: number;
  /** When the set started waiting for its missing views: its first view, or its primary view. */
  openedMs: number | undefined;
  views: Map<string, { t: bigint; item: T }>;
}

/** Groups views into framesets. */
export class FramesetAssembler<T> {
  readonly stats: FramesetStats = { sets: 0, complete: 0, missing: 0, unpaired: 0, late: 0, unknown: 0, duplicate: 0 };
  readonly #o: FramesetOptions;
  readonly #cams: Set<string>;
  #pending: Pending<T>[] = [];
  #lastEmitted: bigint | undefined;
  #lostTaken = 0;
  /** Per camera: its recent view times (for near misses), and per instant it could have joined, its miss (ns) or null. */
  readonly #recent = new Map<string, bigint[]>();
  readonly #verdicts = new Map<string, (bigint | null)[]>();

  constructor(options: FramesetOptions) {
    if (options.cameras.length === 0) throw new RangeError('Expected at least one camera for a frameset');
    if (options.primary !== undefined && !options.cameras.includes(options.primary)) throw new RangeError(`Expected the primary camera ${options.primary} among the cameras ${options.cameras.join(', ')}`);
    this.#o = options;
    this.#cams = new Set(options.cameras);
  }

  /** Adds one camera's view at `t_ns`; returns the sets that are now ready, oldest first. */
  add(cam: string, t_ns: bigint, item: T, nowMs: number): Frameset<T>[] {
    if (!this.#cams.has(cam)) {
      this.stats.unknown++;
      return this.poll(nowMs);
    }
    const recent = this.#recent.get(cam) ?? [];
    recent.push(t_ns);
    if (recent.length > 8) recent.shift();
    this.#recent.set(cam, recent);
    const tol = this.#o.toleranceNs;
    if (this.#lastEmitted !== undefined && t_ns <= this.#lastEmitted + tol) {
      this.stats.late++;
      return this.poll(nowMs);
    }
    const near = this.#pending.find((p) => (t_ns > p.t0 ? t_ns - p.t0 : p.t0 - t_ns) <= tol);
    const opens = this.#o.primary === undefined || cam === this.#o.primary;
    if (near) {
      if (near.views.has(cam)) this.stats.duplicate++;
      else {
        near.views.set(cam, { t: t_ns, item });
        if (opens) near.openedMs ??= nowMs;
      }
    } else {
      this.#pending.push({ t0: t_ns, createdMs: nowMs, openedMs: opens ? nowMs : undefined, views: new Map([[cam, { t: t_ns, item }]]) });
      this.#pending.sort((a, b) => (a.t0 < b.t0 ? -1 : a.t0 > b.t0 ? 1 : 0));
    }
    return this.poll(nowMs);
  }

  /** Returns the sets ready at `nowMs` (complete, or waited long enough), oldest first. */
  poll(nowMs: number): Frameset<T>[] {
    const out: Frameset<T>[] = [];
    while (this.#pending.length) {
      const head = this.#pending[0]!;
      if (head.openedMs === undefined) {
        // No primary view yet. It will not come once a later set holds the primary's view.
        const superseded = this.#pending.some((p) => p.openedMs !== undefined);
        if (!superseded && nowMs - head.createdMs < (this.#o.holdMs ?? 1000)) break;
        this.#pending.shift();
        this.stats.unpaired += head.views.size;
        continue;
      }
      const complete = head.views.size === this.#cams.size;
      if (!complete && nowMs - head.openedMs < this.#o.maxWaitMs && !this.#lost(head)) break;
      this.#pending.shift();
      out.push(this.#emit(head));
    }
    return out;
  }

  /**
   * Whether every view `head` lacks is lost: its camera's view of a later instant is here, and
   * one camera's views arrive in order. Waiting longer for it (a dropped frame) only delays.
   */
  #lost(head: Pending<T>): boolean {
    for (const cam of this.#cams) {
      if (!head.views.has(cam) && !this.#pending.some((p) => p !== head && p.views.has(cam))) return false;
    }
    return true;
  }

  /** Emits everything pending (end of stream). */
  flush(): Frameset<T>[] {
    const open = this.#pending.filter((p) => p.openedMs !== undefined);
    for (const p of this.#pending) if (p.openedMs === undefined) this.stats.unpaired += p.views.size;
    this.#pending = [];
    return open.map((p) => this.#emit(p));
  }

  /** Views lost (late or unpaired) since the last call: what an actor adds to its dropped count. */
  takeLost(): number {
    const lost = this.stats.late + this.stats.unpaired;
    const fresh = lost - this.#lostTaken;
    this.#lostTaken = lost;
    return fresh;
  }

  /**
   * Cameras out of step: over their recent instants, a view of theirs — in the set, or the
   * nearest one outside it (within 0.5 s) — sits at about the same offset from the instant
   * (the mean time of the set's other views), by more than half the tolerance: a clock off by
   * more than the tolerance makes its views miss every instant; one off by less, or by nearly a
   * whole frame period, makes them join the instant off by that much, and views of a moving
   * target some milliseconds apart do not triangulate to where it was. An instant counts for a
   * camera when it holds the primary view, or more than half of the cameras (so the camera out
   * of step is the one blamed, not the rest); dropped frames count as no view.
   */
  skewed(): SkewedCamera[] {
    const out: SkewedCamera[] = [];
    const half = this.#o.toleranceNs / 2n;
    for (const [cam, v] of this.#verdicts) {
      if (v.length < SKEW_WINDOW / 2) continue;
      const seen = v.filter((d): d is bigint => d !== null).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (seen.length < v.length * SKEW_SHARE) continue;
      const median = seen[seen.length >> 1]!;
      if (abs(median) <= half) continue;
      out.push({ cam, offset_ms: Number(median) / 1e6, share: seen.filter((d) => abs(d) > half).length / v.length });
    }
    return out;
  }

  /** Records, for each camera the set `p` could have held, the offset of its view (or of its nearest view outside) from the instant. */
  #judge(p: Pending<T>): void {
    const primary = this.#o.primary;
    const counts = primary !== undefined ? p.views.has(primary) : p.views.size * 2 > this.#cams.size;
    if (!counts) return;
    for (const cam of this.#cams) {
      if (cam === primary) continue;
      // The instant: the mean time of the set's other views (the primary's, when there is one).
      let sum = 0n;
      let n = 0n;
      for (const [c, view] of p.views) {
        if (c === cam || (primary !== undefined && c !== primary)) continue;
        sum += view.t;
        n++;
      }
      if (n === 0n) continue;
      const instant = sum / n;
      const own = p.views.get(cam);
      let offset: bigint | null = own ? own.t - instant : null;
      if (!own) {
        const recent = this.#recent.get(cam) ?? [];
        for (const t of recent) if (abs(t - instant) <= SKEW_REACH_NS && (offset === null || abs(t - instant) < abs(offset))) offset = t - instant;
        // Its nearest view a whole number of its frame periods from the instant (within half the
        // tolerance) is an in-step camera's neighbouring frame: this one was dropped, or came
        // late — a starved or lossy link, not a clock; many such made it look out of step.
        const period = framePeriod(recent);
        if (offset !== null && period !== undefined) {
          const frames = (offset + (offset < 0n ? -period / 2n : period / 2n)) / period;
          if (frames !== 0n && abs(offset - frames * period) <= this.#o.toleranceNs / 2n) offset = null;
        }
      }
      const v = this.#verdicts.get(cam) ?? [];
      v.push(offset);
      if (v.length > SKEW_WINDOW) v.shift();
      this.#verdicts.set(cam, v);
    }
  }

  #emit(p: Pending<T>): Frameset<T> {
    // Grown by push: packed whether or not this is optimized (util/packed-array.ts says why).
    const times: bigint[] = [];
    for (const v of p.views.values()) times.push(v.t);
    const t_ns = times.reduce((a, b) => a + b, 0n) / BigInt(times.length);
    const missing = [...this.#cams].filter((c) => !p.views.has(c));
    this.stats.sets++;
    if (missing.length === 0) this.stats.complete++;
    this.stats.missing += missing.length;
    this.#lastEmitted = [...p.views.values()].reduce((m, v) => (v.t > m ? v.t : m), p.t0);
    this.#judge(p);
    return { t_ns, views: new Map([...p.views].map(([c, v]) => [c, v.item])), missing };
  }
}

const abs = (v: bigint) => (v < 0n ? -v : v);

/** A camera's frame period: the median step between its recent view times (undefined with fewer than three). */
function framePeriod(times: readonly bigint[]): bigint | undefined {
  if (times.length < 3) return undefined;
  const sorted = [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const steps = sorted.slice(1).map((t, i) => t - sorted[i]!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const step = steps[steps.length >> 1]!;
  return step > 0n ? step : undefined;
}

/** What an actor logs for a camera out of step (with the SkewedCamera and its tolerance). */
export const SKEW_WARNING = "a camera's views keep sitting at about the same offset from the other cameras' instants: its clock is out of step with theirs (synchronise it); beyond tolerance_ms its views go unused, within it they are triangulated with views of another time";

/**
 * The cameras `sets` finds out of step that `reported` does not hold yet (each is reported
 * once, and again only after it has been back in step); looked at every 25 sets, a cheap call.
 */
export function newlySkewed(sets: FramesetAssembler<unknown>, reported: Set<string>): SkewedCamera[] {
  if (sets.stats.sets % 25 !== 0) return [];
  const now = sets.skewed();
  for (const cam of reported) if (!now.some((s) => s.cam === cam)) reported.delete(cam);
  const fresh = now.filter((s) => !reported.has(s.cam));
  for (const s of fresh) reported.add(s.cam);
  return fresh;
}
