/**
 * Voxel shards each publish their slab's measurements of an instant; the tracker needs the
 * instant whole. Parts of (nearly) the same t_ns are gathered until every shard has spoken or
 * a wait has passed — a shard that is down (its node died, it is being moved) must not stop
 * the scans, it only leaves its slab out of them until it is back.
 */
import { f64ToBin, binToF64 } from '../../bus/codec.js';
import { slabIndex } from '../../geometry/slab.js';
import type { Measurements } from '../../schemas/measurement.js';
import type { MessageOf } from '../../schemas/message.js';

type Meas = MessageOf<typeof Measurements>;

export interface ShardMergeOptions {
  /** Parts this close in time are one instant (ns). */
  toleranceNs: bigint;
  /** How long an instant waits for its missing shards after its first part (ms). */
  waitMs: number;
}

export const DEFAULT_SHARD_MERGE: ShardMergeOptions = { toleranceNs: 10_000_000n, waitMs: 30 };

interface Group {
  t0: bigint;
  count: number;
  openedMs: number;
  parts: Map<number, Meas>;
}

/** One whole instant; `observed`, when some shard's slab is missing, says which points it covered. */
export interface MergedScan {
  meas: Meas;
  observed?: (p: readonly [number, number, number]) => boolean;
}

/** Counters for telemetry: instants sent without every shard, parts too late or repeated. */
export interface ShardMergeStats {
  partial: number;
  late: number;
  repeated: number;
}

/** Gathers shard parts into whole instants, in time order. */
export class ShardMerger {
  readonly #o: ShardMergeOptions;
  #pending: Group[] = [];
  #lastEmitted: bigint | undefined;
  readonly stats: ShardMergeStats = { partial: 0, late: 0, repeated: 0 };

  constructor(o: Partial<ShardMergeOptions> = {}) {
    this.#o = { ...DEFAULT_SHARD_MERGE, ...o };
  }

  /** When the oldest waiting instant goes out at the latest (ms), if any waits. */
  get deadlineMs(): number | undefined {
    return this.#pending.length ? Math.min(...this.#pending.map((g) => g.openedMs)) + this.#o.waitMs : undefined;
  }

  /** Takes one message; returns the instants now complete (an unsharded message passes straight through). */
  add(m: Meas, nowMs: number): MergedScan[] {
    if (!m.shard) return [{ meas: m }];
    const tol = this.#o.toleranceNs;
    if (this.#lastEmitted !== undefined && m.t_ns <= this.#lastEmitted + tol) {
      this.stats.late++;
      return [];
    }
    let g = this.#pending.find((p) => (m.t_ns > p.t0 ? m.t_ns - p.t0 : p.t0 - m.t_ns) <= tol);
    if (!g) {
      g = { t0: m.t_ns, count: m.shard.count, openedMs: nowMs, parts: new Map() };
      this.#pending.push(g);
      this.#pending.sort((a, b) => (a.t0 < b.t0 ? -1 : a.t0 > b.t0 ? 1 : 0));
    }
    if (g.parts.has(m.shard.index)) {
      this.stats.repeated++;
      return [];
    }
    g.parts.set(m.shard.index, m);
    // A shard count that changed (shards added or removed) counts by the newest word.
    g.count = m.shard.count;
    if (g.parts.size < g.count) return this.poll(nowMs);
    // Every shard publishes in time order: once all have spoken for this instant, the older
    // ones will get nothing more.
    return this.#emitThrough(g);
  }

  /** Instants whose wait is over, oldest first. */
  poll(nowMs: number): MergedScan[] {
    const expired = this.#pending.filter((g) => nowMs - g.openedMs >= this.#o.waitMs).at(-1);
    return expired ? this.#emitThrough(expired) : [];
  }

  #emitThrough(last: Group): MergedScan[] {
    const k = this.#pending.indexOf(last);
    const out = this.#pending.splice(0, k + 1).map((g) => this.#merge(g));
    this.#lastEmitted = out.at(-1)!.meas.t_ns;
    return out;
  }

  #merge(g: Group): MergedScan {
    const parts = [...g.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m);
    let observed: MergedScan['observed'];
    if (g.parts.size < g.count) {
      this.stats.partial++;
      // Every part carries the seams of all shards: the slabs that spoke are what was seen.
      const { axis, cuts } = parts.at(-1)!.shard!;
      const spoke = new Set(g.parts.keys());
      observed = (p) => spoke.has(slabIndex(cuts, p[axis]));
    }
    const t_ns = parts.reduce((t, m) => (m.t_ns < t ? m.t_ns : t), parts[0]!.t_ns);
    const values: number[] = [];
    for (const m of parts) values.push(...binToF64(m.points));
    const rays: number[] = [];
    for (const m of parts) if (m.rays) rays.push(...binToF64(m.rays));
    const rayPart = rays.length ? { ray_count: parts.reduce((n, m) => n + (m.ray_count ?? 0), 0), rays: f64ToBin(rays) } : {};
    const pairs = [...new Set(parts.flatMap((m) => m.pairs))];
    return { meas: { t_ns, count: parts.reduce((n, m) => n + m.count, 0), pairs, points: f64ToBin(values), ...rayPart }, ...(observed ? { observed } : {}) };
  }
}
