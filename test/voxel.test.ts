import assert from 'node:assert/strict';
import { VoxelGrid } from '../kernels/native.js';
import type { RayBatch } from '../kernels/voxel-params.js';
import { Rng } from '../sim/rng.js';
import { selectPeaks } from '../actors/voxel/select-peaks.js';

type V3 = [number, number, number];
const cams: V3[] = [[-600, -600, 3], [600, -600, 3], [600, 600, 3], [-600, 600, 3]];

/** Rays from every camera to every target, with angular noise; plus random clutter rays. */
function rays(targets: V3[], rng: Rng, noiseRad: number, clutter: number): RayBatch {
  const o: number[] = [];
  const d: number[] = [];
  const w: number[] = [];
  const c: number[] = [];
  const push = (cam: number, dir: V3) => {
    const n = Math.hypot(...dir);
    o.push(...cams[cam]!);
    d.push(dir[0] / n, dir[1] / n, dir[2] / n);
    w.push(1);
    c.push(cam);
  };
  cams.forEach((cam, i) => {
    for (const t of targets) push(i, [t[0] - cam[0] + rng.normal() * noiseRad * 1000, t[1] - cam[1] + rng.normal() * noiseRad * 1000, t[2] - cam[2] + rng.normal() * noiseRad * 1000]);
    for (let k = 0; k < clutter; k++) push(i, [rng.uniform(-1, 1), rng.uniform(-1, 1), rng.uniform(0.1, 0.8)]);
  });
  return { origins: Float64Array.from(o), dirs: Float64Array.from(d), weights: Float32Array.from(w), cameras: Int32Array.from(c) };
}

describe('voxel voting (native)', function () {
  this.timeout(60_000);
  const box: [number, number, number, number, number, number] = [-700, -700, 0, 700, 700, 600];

  it('finds every target seen by several cameras, refined to within its reported covariance', async () => {
    const rng = new Rng(4);
    const grid = new VoxelGrid({ worldBox: box, minCameras: 3, raySigmaRad: 1e-4 });
    grid.setCameras(cams);
    const targets: V3[] = Array.from({ length: 8 }, () => [rng.uniform(-400, 400), rng.uniform(-400, 400), rng.uniform(80, 450)]);
    // angular noise of 1e-4 rad (about 0.1 px on a long lens), applied at ~1 km as a lateral offset
    const out = await grid.process(rays(targets, rng, 1e-4, 30));
    let maha = 0;
    for (const t of targets) {
      const near = out.peaks.filter((p) => Math.hypot(p.position[0] - t[0], p.position[1] - t[1], p.position[2] - t[2]) < 3);
      assert.ok(near.length >= 1, `no peak near target ${t.map((v) => v.toFixed(1))}`);
      const p = near[0]!;
      assert.ok(p.cameras >= 3);
      const e = [p.position[0] - t[0], p.position[1] - t[1], p.position[2] - t[2]];
      // squared error over the diagonal variances, summed over axes (≈ 3 on average)
      maha += e.reduce((s, v, i) => s + (v * v) / p.covariance[i * 4]!, 0);
    }
    assert.ok(maha / targets.length < 12, `mean squared normalised error ${maha / targets.length}`);
    assert.ok(out.steps > 0 && out.bricks > 0 && out.bytes > 0);
  });

  it('grows voxels with range from the cameras', async () => {
    const grid = new VoxelGrid({ worldBox: [-3000, -3000, 0, 3000, 3000, 1500], minCameras: 2 });
    const pair: V3[] = [[-50, 0, 3], [50, 0, 3]];
    grid.setCameras(pair);
    const near: V3 = [0, 150, 50];
    const far: V3 = [0, 2800, 400];
    const mk = (t: V3) => pair.flatMap((c) => { const v = [t[0] - c[0], t[1] - c[1], t[2] - c[2]]; const n = Math.hypot(...v); return v.map((x) => x / n); });
    const out = await grid.process({ origins: Float64Array.from([...pair[0]!, ...pair[1]!, ...pair[0]!, ...pair[1]!]), dirs: Float64Array.from([...mk(near).slice(0, 3), ...mk(near).slice(3), ...mk(far).slice(0, 3), ...mk(far).slice(3)]), weights: Float32Array.of(1, 1, 1, 1), cameras: Int32Array.of(0, 1, 0, 1) });
    const level = (t: V3) => out.peaks.find((p) => Math.hypot(p.position[0] - t[0], p.position[1] - t[1], p.position[2] - t[2]) < 5)!.level;
    assert.ok(level(far) > level(near), `far level ${level(far)} vs near ${level(near)}`);
  });

  it('never exceeds its memory budget: evicts the least recently hit bricks and counts them', async () => {
    const rng = new Rng(6);
    const budget = 4 * 1024 * 1024;
    const grid = new VoxelGrid({ worldBox: box, memoryBudget: budget });
    grid.setCameras(cams);
    let evicted = 0;
    for (let k = 0; k < 5; k++) {
      const out = await grid.process(rays([], rng, 0, 40));
      assert.ok(out.bytes <= budget, `${out.bytes} bytes in use`);
      evicted = out.evicted;
    }
    assert.ok(evicted > 0, 'bricks were evicted');
  });

  it('takes a preallocated budget on a worker thread: the constructor returns at once, the first frame waits for it', async function () {
    const { nativeInfo } = await import('../kernels/native.js');
    if (nativeInfo().cuda) this.skip(); // on a GPU the bricks live there
    const budget = 512 * 1024 * 1024;
    const before = process.memoryUsage().rss;
    const grid = new VoxelGrid({ worldBox: box, memoryBudget: budget, preallocate: true });
    // Read at once: touching half of 512 MiB takes the worker 10 ms even at 25 GB/s (the
    // constructor that touched it itself returned with all of it resident).
    const atReturn = process.memoryUsage().rss - before;
    grid.setCameras(cams); // allowed meanwhile: cameras never touch the bricks
    await grid.process(rays([[0, 0, 200]], new Rng(8), 0, 5));
    const atFirstFrame = process.memoryUsage().rss - before;
    assert.ok(atReturn < budget / 2, `${(atReturn / 2 ** 20).toFixed(0)} MiB resident when the constructor returned`);
    assert.ok(atFirstFrame >= budget * 0.9, `${(atFirstFrame / 2 ** 20).toFixed(0)} MiB resident after the first frame`);
  });

  it('runs where it says, and a backend it cannot have is an error saying why', async () => {
    const { nativeInfo } = await import('../kernels/native.js');
    const info = nativeInfo();
    assert.equal(new VoxelGrid({ worldBox: box, memoryBudget: 1 << 20 }).backend, info.cuda ? 'cuda' : 'cpu', 'auto takes a CUDA device when there is one');
    assert.equal(new VoxelGrid({ worldBox: box, backend: 'cpu' }).backend, 'cpu');
    if (!info.cuda) assert.throws(() => new VoxelGrid({ worldBox: box, backend: 'cuda' }), (e: Error) => e.message.startsWith('backend cuda: ') && e.message.length > 20);
    assert.throws(() => new VoxelGrid({ worldBox: box, backend: 'gpu' as never }), /Expected auto, cpu or cuda for backend but received gpu/);
    assert.throws(() => new VoxelGrid({ worldBox: box, memoryBuget: 1 << 20 } as never), /but received the setting memoryBuget/);
    assert.throws(() => new VoxelGrid({ worldBox: box, constructor: 1 } as never), /but received the setting constructor/, 'an inherited name is no setting either');
  });

  it('searches a crowded frame on several threads and finds exactly the one-thread peaks', async () => {
    // Every ray votes, as at a cold start: thousands of candidate voxels, enough for the
    // search to split across threads (native/src/voxel.cpp, kParallelCandidates).
    const rng = new Rng(21);
    const targets: V3[] = Array.from({ length: 400 }, () => [rng.uniform(-450, 450), rng.uniform(-450, 450), rng.uniform(80, 450)]);
    const frames = [rays(targets, rng, 1e-4, 40), rays(targets, rng, 1e-4, 40)];
    const run = async (threads: number) => {
      const grid = new VoxelGrid({ worldBox: box, minCameras: 2, lodRatio: 0.01, minVoxel: 2, maxVoxel: 16, threads });
      grid.setCameras(cams);
      const out = [];
      for (const f of frames) out.push((await grid.process(f)).peaks);
      return out;
    };
    const one = await run(1);
    assert.ok(one[0]!.length > 2048, `a frame this crowded has thousands of peaks (${one[0]!.length})`);
    for (const threads of [2, 3, 0]) assert.deepEqual(await run(threads), one, `threads: ${threads}`);
    assert.throws(() => new VoxelGrid({ worldBox: box, threads: -1 }), /Expected an integer in \[0, 256\] \(0: every core\) for threads but received -1/);
    assert.throws(() => new VoxelGrid({ worldBox: box, threads: 1.5 }), /for threads but received 1.5/);
  });

  it('refuses bad rays and settings with the field and the value', async () => {
    const grid = new VoxelGrid({ worldBox: box });
    const ok = { origins: new Float64Array(3), dirs: Float64Array.of(0, 0, 1), weights: Float32Array.of(1), cameras: Int32Array.of(0) };
    await assert.rejects(grid.process({ ...ok, dirs: Float64Array.of(Number.NaN, 0, 1) }), /Expected a unit direction for ray 0 but received \[NaN, 0, 1\]/);
    await assert.rejects(grid.process({ ...ok, dirs: Float64Array.of(0, 0, 2) }), /Expected a unit direction for ray 0/);
    await assert.rejects(grid.process({ ...ok, cameras: Int32Array.of(64) }), /Expected a camera index in \[0, 63\] for ray 0 but received 64/);
    await assert.rejects(grid.process({ ...ok, weights: Float32Array.of(1, 1) }), /Expected 3n origins, 3n dirs and n cameras for n = 2 weights/);
    assert.throws(() => new VoxelGrid({ minVoxel: 0.3, cell: 32 }), /Expected cell \(32\) to be a multiple of every voxel size but 0.3 does not divide it/);
    assert.throws(() => new VoxelGrid({ worldBox: [0, 0, 0, -1, 1, 1] }), /Expected \[xmin, ymin, zmin, xmax, ymax, zmax\] with max > min for worldBox/);
    assert.equal((await grid.process(ok)).peaks.length, 0, 'still works');
  });
});

describe('voxel peaks: objects, not ghosts', function () {
  this.timeout(60_000);

  it('the peak with the most free rays goes first; one whose rays are taken is a ghost', () => {
    const peaks = [
      { rays: [0, 4], weight: 5 }, // heavier, but both its rays belong to better peaks
      { rays: [0, 1, 2, 3], weight: 4 },
      { rays: [2, 7], weight: 3 }, // one free ray left: not enough
      { rays: [4, 5, 6], weight: 3 },
      { rays: [7, 8], weight: 1 },
    ];
    assert.deepEqual(selectPeaks(peaks, 2), [1, 3, 4]);
    assert.deepEqual(selectPeaks(peaks, 3), [1, 3]);
  });

  it('in a crowded sky keeps one peak per object and almost no ghost', async () => {
    const rng = new Rng(12);
    const grid = new VoxelGrid({ worldBox: [-700, -700, 0, 700, 700, 600], minCameras: 2, lodRatio: 0.01, minVoxel: 2, maxVoxel: 16 });
    grid.setCameras(cams);
    const targets: V3[] = Array.from({ length: 60 }, () => [rng.uniform(-450, 450), rng.uniform(-450, 450), rng.uniform(80, 450)]);
    const out = await grid.process(rays(targets, rng, 1e-4, 0));
    const chosen = selectPeaks(out.peaks, 2).map((i) => out.peaks[i]!);
    const nearest = (p: { position: number[] }) => Math.min(...targets.map((t) => Math.hypot(p.position[0]! - t[0], p.position[1]! - t[1], p.position[2]! - t[2])));
    const real = chosen.filter((p) => nearest(p) < 5).length;
    const ghostsBefore = out.peaks.filter((p) => nearest(p) >= 5).length;
    assert.ok(ghostsBefore > targets.length, `the scene makes ghosts (${ghostsBefore})`);
    assert.ok(real >= targets.length * 0.95, `objects kept: ${real} of ${targets.length}`);
    assert.ok(chosen.length - real <= targets.length * 0.05, `ghosts kept: ${chosen.length - real} (of ${ghostsBefore})`);
  });
});

describe('voxel voting: native against the TypeScript reference', function () {
  this.timeout(120_000);

  it('casts, decays, evicts and finds peaks identically, rays grazing brick corners included', async () => {
    const { VoxelReference, BRICK_BYTES } = await import('../kernels/voxel-reference.js');
    const { nativeInfo } = await import('../kernels/native.js');
    assert.equal(BRICK_BYTES, nativeInfo().voxelBrickBytes, 'the reference budgets bricks as the native grid does');
    const rng = new Rng(31);
    const params = { worldBox: [-300, -300, 0, 300, 300, 300] as [number, number, number, number, number, number], minCameras: 2, memoryBudget: 6 * 1024 * 1024, decay: 0.6 };
    const nat = new VoxelGrid(params);
    const ref = new VoxelReference(params);
    const centres: V3[] = [[-250, -250, 2], [250, -250, 2], [0, 250, 2]];
    nat.setCameras(centres);
    ref.setCameras(centres);
    for (let frame = 0; frame < 6; frame++) {
      const o: number[] = [];
      const d: number[] = [];
      const c: number[] = [];
      const w: number[] = [];
      const targets: V3[] = Array.from({ length: 5 }, () => [rng.uniform(-150, 150), rng.uniform(-150, 150), rng.uniform(20, 200)]);
      centres.forEach((cam, i) => {
        for (const t of targets) {
          const v = [t[0] - cam[0], t[1] - cam[1], t[2] - cam[2]];
          const n = Math.hypot(...v);
          o.push(...cam);
          d.push(v[0]! / n, v[1]! / n, v[2]! / n);
          c.push(i);
          w.push(1 + rng.next());
        }
      });
      // Rays through exact brick corners (multiples of 8 voxels of 0.125 m = 1 m) along diagonals.
      for (let k = 0; k < 4; k++) {
        o.push(-100 + k, -100, 10);
        const s = 1 / Math.sqrt(3);
        d.push(s, s, s);
        c.push(k % 3);
        w.push(1);
      }
      const batch = { origins: Float64Array.from(o), dirs: Float64Array.from(d), weights: Float32Array.from(w), cameras: Int32Array.from(c) };
      const a = await nat.process(batch);
      const b = ref.process(batch);
      for (const k of ['steps', 'bricks', 'bytes', 'evicted', 'lost'] as const) assert.equal(a[k], b[k], `frame ${frame}: ${k}`);
      assert.equal(a.peaks.length, b.peaks.length, `frame ${frame}: peak count`);
      a.peaks.forEach((p, i) => {
        const q = b.peaks[i]!;
        assert.deepEqual([p.weight, p.cameras, p.level, p.rays], [q.weight, q.cameras, q.level, q.rays], `frame ${frame} peak ${i}`);
        p.position.forEach((v, k) => assert.ok(Math.abs(v - q.position[k]!) < 1e-6, `frame ${frame} peak ${i} position`));
      });
    }
    assert.ok((await nat.process({ origins: new Float64Array(), dirs: new Float64Array(), weights: new Float32Array(), cameras: new Int32Array() })).evicted > 0, 'the run exercised eviction');
  });
});
