/**
 * Voxel shards split the airspace into slabs across the longest horizontal side of the
 * scenario's box: shard k of N owns slab k (the outer two reach to infinity, so every point
 * has exactly one owner). A shard works on its slab widened by a margin, so an object near a
 * seam is seen whole by both neighbours, and emits only what its own slab holds.
 */
import { slabOf } from '../../geometry/slab.js';
import type { Vec3 } from '../../geometry/vec3.js';

/** Which voxel shard this is: `index` of `count`, with `margin_m` of overlap on each seam. */
export interface ShardSpec {
  index: number;
  count: number;
  margin_m: number;
}

export type Box = [number, number, number, number, number, number];

/** A shard's slab: the axis cut, the seams of all shards, what it owns [lo, hi), and the box it works in. */
export interface ShardRegion {
  axis: 0 | 1;
  cuts: number[];
  lo: number;
  hi: number;
  workBox: Box;
  owns(p: Vec3): boolean;
}

/** The default overlap on each seam (m): wider than a track's gate or a voxel at range. */
export const DEFAULT_SHARD_MARGIN_M = 50;

/** Reads `options.shard` ({index, count, margin_m?}); errors name the field. */
export function parseShardSpec(raw: unknown): ShardSpec | undefined {
  if (raw === undefined) return undefined;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new TypeError(`options.shard: expected {index, count, margin_m?}, got ${JSON.stringify(raw)}`);
  const { index, count, margin_m: margin = DEFAULT_SHARD_MARGIN_M, ...rest } = raw as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length) throw new TypeError(`options.shard.${extra[0]}: unknown setting (expected index, count, margin_m)`);
  if (!Number.isInteger(count) || (count as number) < 1) throw new TypeError(`options.shard.count: expected an integer ≥ 1, got ${JSON.stringify(count)}`);
  if (!Number.isInteger(index) || (index as number) < 0 || (index as number) >= (count as number)) throw new TypeError(`options.shard.index: expected an integer from 0 to ${(count as number) - 1}, got ${JSON.stringify(index)}`);
  if (typeof margin !== 'number' || !(margin >= 0)) throw new TypeError(`options.shard.margin_m: expected a number of metres ≥ 0, got ${JSON.stringify(margin)}`);
  return { index: index as number, count: count as number, margin_m: margin };
}

/** Shard `s`'s slab of `box` (the airspace every shard is given alike). */
export function shardRegion(box: Box, s: ShardSpec): ShardRegion {
  const axis: 0 | 1 = box[3] - box[0] >= box[4] - box[1] ? 0 : 1;
  const width = (box[axis + 3]! - box[axis]!) / s.count;
  const cuts = Array.from({ length: s.count - 1 }, (_, k) => box[axis]! + (k + 1) * width);
  const { lo, hi } = slabOf(cuts, s.index);
  const workBox = [...box] as Box;
  workBox[axis] = Math.max(box[axis]!, lo - s.margin_m);
  workBox[axis + 3] = Math.min(box[axis + 3]!, hi + s.margin_m);
  return { axis, cuts, lo, hi, workBox, owns: (p) => p[axis] >= lo && p[axis] < hi };
}
