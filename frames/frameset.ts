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
    return { t_ns, views: new Map([...p.views].map(([c, v]) => [c, v.item])), missing };
  }
}
