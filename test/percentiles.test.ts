import assert from 'node:assert/strict';
import { LatencyWindow } from '../supervisors/latency.js';
import { median, p50p99 } from '../util/percentiles.js';

describe('percentiles', () => {
  it('p50p99 takes the nearest rank of sorted values', () => {
    assert.deepEqual(p50p99(Array.from({ length: 100 }, (_, i) => i + 1)), { p50: 50, p99: 99 });
    assert.deepEqual(p50p99([7]), { p50: 7, p99: 7 });
    assert.deepEqual(p50p99([1, 2, 3]), { p50: 2, p99: 3 });
  });

  it('median takes the upper middle of values in any order, 0 of none', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median(Float64Array.of(4, 1, 3, 2)), 3);
    assert.equal(median([]), 0);
  });

  it('a latency window gives the percentiles of its last samples only, zeros when empty', () => {
    const w = new LatencyWindow(100);
    assert.deepEqual(w.percentiles(), { p50: 0, p99: 0 });
    // 1..50, then 150 down to 51, in a window of 100: 51..150 remain, added in descending order.
    for (let i = 1; i <= 50; i++) w.add(i);
    for (let i = 150; i >= 51; i--) w.add(i);
    assert.deepEqual(w.percentiles(), { p50: 100, p99: 149 });
  });
});
