/**
 * Which voxel peaks are objects. Every pair of crossing rays from two cameras makes a peak, so
 * a crowded sky gives many more peaks than objects ("ghosts"). Each peak carries the rays it
 * was refined over; the peaks take rays greedily, the one with the most still-free rays first
 * (then the heavier), and a peak left with fewer than `minViews` free rays is a ghost of rays
 * other peaks explain. This is greedy set packing with lazy re-ranking: a peak's count only
 * falls, so it is re-queued at its new count and taken when its count is current.
 */
import type { VoxelPeak } from '../../kernels/voxel-params.js';

/** Indices of the peaks that own at least `minViews` rays no earlier chosen peak took, in the order chosen. */
export function selectPeaks(peaks: readonly Pick<VoxelPeak, 'rays' | 'weight'>[], minViews: number): number[] {
  const buckets: number[][] = [];
  peaks.forEach((p, i) => {
    if (p.rays.length >= minViews) (buckets[p.rays.length] ??= []).push(i);
  });
  const taken = new Set<number>();
  const chosen: number[] = [];
  for (let count = buckets.length - 1; count >= minViews; count--) {
    const bucket = buckets[count];
    if (!bucket) continue;
    // Only lower buckets grow while this one is worked through, so it is complete here.
    bucket.sort((a, b) => peaks[b]!.weight - peaks[a]!.weight || a - b);
    for (const i of bucket) {
      const free = peaks[i]!.rays.filter((r) => !taken.has(r)).length;
      if (free === count) {
        for (const r of peaks[i]!.rays) taken.add(r);
        chosen.push(i);
      } else if (free >= minViews) {
        (buckets[free] ??= []).push(i);
      }
    }
  }
  return chosen;
}
