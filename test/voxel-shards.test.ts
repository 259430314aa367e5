import assert from 'node:assert/strict';
import { OfflinePipeline } from '../actors/batch-worker/offline-pipeline.js';
import { ShardMerger } from '../actors/tracker/shard-merge.js';
import { TrackerStage } from '../actors/tracker/tracker-stage.js';
import { parseShardSpec, shardRegion } from '../actors/voxel/shard-region.js';
import { type Fused, VoxelStage } from '../actors/voxel/voxel-stage.js';
import { binToF64, f64ToBin } from '../bus/codec.js';
import { FramesetAssembler, type Frameset } from '../frames/frameset.js';
import { MEAS_STRIDE, type Measurements } from '../schemas/measurement.js';
import type { MessageOf } from '../schemas/message.js';
import { loadScenario } from '../sim/scenario.js';
import { Simulator } from '../sim/simulator.js';

type Meas = MessageOf<typeof Measurements>;
const part = (t: bigint, index: number, count: number, xs: number[]): Meas => ({
  t_ns: t,
  count: xs.length,
  pairs: [`p${index}`],
  points: f64ToBin(xs.flatMap((x) => [x, 0, 100, 1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 2])),
  shard: { index, count, axis: 0, cuts: Array.from({ length: count - 1 }, (_, k) => (k + 1) * 100) },
});
const xsOf = (m: Meas) => [...binToF64(m.points)].filter((_, i) => i % MEAS_STRIDE === 0);

describe('voxel shards', () => {
  it('gathers the shards\' parts of an instant; goes on without a missing shard after the wait; counts late and repeated parts', () => {
    const m = new ShardMerger({ waitMs: 30, toleranceNs: 10_000_000n });
    assert.deepEqual(m.add(part(1_000_000_000n, 0, 2, [1, 2]), 0), []);
    const [first] = m.add(part(1_000_300_000n, 1, 2, [3]), 5);
    const whole = first!.meas;
    assert.equal(whole.t_ns, 1_000_000_000n, 'the instant takes its earliest part\'s time');
    assert.deepEqual(xsOf(whole), [1, 2, 3]);
    assert.deepEqual(whole.pairs, ['p0', 'p1']);
    assert.equal(whole.shard, undefined, 'a whole instant is not a part');
    assert.equal(first!.observed, undefined, 'every slab was seen');
    // Shard 1 is down: instant 2 waits 30 ms, then goes with shard 0's slab only.
    assert.deepEqual(m.add(part(1_033_000_000n, 0, 2, [4]), 40), []);
    assert.equal(m.deadlineMs, 70);
    assert.deepEqual(m.poll(69), []);
    const [partial] = m.poll(70);
    assert.deepEqual(xsOf(partial!.meas), [4]);
    assert.equal(m.stats.partial, 1);
    // Shard 1's slab (x ≥ 100) was not seen this instant: its tracks are neither hit nor missed.
    assert.equal(partial!.observed!([50, 0, 0]), true);
    assert.equal(partial!.observed!([150, 0, 0]), false);
    // Its part arriving after that is late; a repeated part is dropped.
    assert.deepEqual(m.add(part(1_033_000_000n, 1, 2, [5]), 75), []);
    assert.equal(m.stats.late, 1);
    m.add(part(1_066_000_000n, 0, 2, [6]), 80);
    assert.deepEqual(m.add(part(1_066_000_000n, 0, 2, [6]), 81), []);
    assert.equal(m.stats.repeated, 1);
    // Once every shard has spoken for a newer instant, an older incomplete one goes first.
    m.add(part(1_100_000_000n, 1, 2, [8]), 90);
    m.add(part(1_100_000_000n, 0, 2, [7]), 91);
    // (1.066 s got shard 0 only; 1.1 s is whole.)
    assert.equal(m.stats.partial, 2);
    // An unsharded message passes straight through.
    const plain = { ...part(2_000_000_000n, 0, 1, [9]) };
    delete plain.shard;
    assert.deepEqual(m.add(plain, 100), [{ meas: plain }]);
  });

  it('splits the airspace into slabs every point of which has one owner; rejects bad settings by name', () => {
    const box: [number, number, number, number, number, number] = [-1000, -400, 0, 1000, 400, 800];
    const regions = [0, 1, 2].map((index) => shardRegion(box, { index, count: 3, margin_m: 50 }));
    assert.ok(regions.every((r) => r.axis === 0), 'cut across the longest horizontal side');
    for (const x of [-5000, -1000, -333.34, -333.33, 0, 333.33, 333.34, 999, 5000]) assert.equal(regions.filter((r) => r.owns([x, 0, 100])).length, 1, `x=${x}`);
    regions[1]!.workBox.slice(0, 4).forEach((v, i) => assert.ok(Math.abs(v - [-1000 / 3 - 50, -400, 0, 1000 / 3 + 50][i]!) < 1e-9, `workBox[${i}] ${v}`));
    assert.deepEqual(regions[0]!.workBox[0], -1000, 'the work box stays within the airspace');
    assert.throws(() => parseShardSpec({ index: 2, count: 2 }), /options\.shard\.index: expected an integer from 0 to 1, got 2/);
    assert.throws(() => parseShardSpec({ index: 0, count: 0 }), /options\.shard\.count: expected an integer ≥ 1/);
    assert.throws(() => parseShardSpec({ index: 0, count: 2, margin: 5 }), /options\.shard\.margin: unknown setting/);
  });

  it('three shards give ring10 the measurements one voxel stage gives, each point once', async function () {
    this.timeout(60_000);
    const scenario = loadScenario('ring10');
    const sim = new Simulator(scenario, 0n);
    // Fused framesets of the first 3 s, as the voxel actors receive them.
    const pipeline = new OfflinePipeline(scenario);
    const fused: Fused[] = [];
    for (let k = 0; k < 3 * scenario.fps; k++) {
      for (const cam of sim.cameras) {
        const out = sim.detections(cam, k);
        if (out) for (const s of await pipeline.push(out.frame)) fused.push(...s.fused);
      }
    }
    const whole = new VoxelStage(scenario);
    const shards = [0, 1, 2].map((index) => new VoxelStage(scenario, { shard: { index, count: 3 } }));
    const sets = new FramesetAssembler<Fused>({ cameras: whole.pairs, toleranceNs: 10_000_000n, maxWaitMs: 80 });
    const merger = new ShardMerger();
    const tracker = new TrackerStage();
    let points = 0;
    let unmatched = 0;
    let twice = 0;
    const run = async (set: Frameset<Fused>) => {
      const one = (await whole.process(set)).meas;
      const parts = await Promise.all(shards.map(async (s) => (await s.process(set)).meas));
      const merged = parts.flatMap((p) => merger.add(p, 0)).map((s) => s.meas);
      assert.equal(merged.length, 1, 'every shard spoke: the instant is whole at once');
      const a = binToF64(one.points);
      const b = binToF64(merged[0]!.points);
      const near = (x: Float64Array, i: number, y: Float64Array, j: number) => Math.hypot(x[i * MEAS_STRIDE]! - y[j * MEAS_STRIDE]!, x[i * MEAS_STRIDE + 1]! - y[j * MEAS_STRIDE + 1]!, x[i * MEAS_STRIDE + 2]! - y[j * MEAS_STRIDE + 2]!) < 0.5;
      for (let i = 0; i < one.count; i++) {
        points++;
        let found = false;
        for (let j = 0; j < merged[0]!.count && !found; j++) found = near(a, i, b, j);
        if (!found) unmatched++;
      }
      for (let i = 0; i < merged[0]!.count; i++) for (let j = i + 1; j < merged[0]!.count; j++) if (near(b, i, b, j)) twice++;
      // Every stage sees the same tracks, so the comparison is of the sharding alone.
      const { tracks } = tracker.step(one, () => one.t_ns);
      for (const s of [whole, ...shards]) s.setTracks(tracks);
    };
    for (const f of fused) for (const set of sets.add(f.pair, f.t_ns, f, Number(f.t_ns / 1_000_000n))) await run(set);
    for (const set of sets.flush()) await run(set);
    process.stderr.write(`    ${points} points of one stage; the shards missed ${unmatched}, gave ${twice} twice\n`);
    assert.ok(points > 1000, `${points} points`);
    assert.ok(unmatched <= points * 0.01, `${unmatched} of ${points} points of one stage missing from the shards'`);
    assert.ok(twice <= points * 0.001, `${twice} points given twice by the shards`);
  });
});
