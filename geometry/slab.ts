/** Slabs of space between parallel seams across one axis: how voxel shards split the airspace. */

/** Slab `index` between the ascending seams `cuts`: [lo, hi), the outer two unbounded. */
export function slabOf(cuts: readonly number[], index: number): { lo: number; hi: number } {
  return { lo: index === 0 ? -Infinity : cuts[index - 1]!, hi: index === cuts.length ? Infinity : cuts[index]! };
}

/** The slab a coordinate falls in. */
export function slabIndex(cuts: readonly number[], v: number): number {
  let k = 0;
  while (k < cuts.length && v >= cuts[k]!) k++;
  return k;
}
