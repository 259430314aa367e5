import assert from 'node:assert/strict';
import { analysisGrid, onAnalysisGrid } from '../frames/analysis-grid.js';
import { Rng } from '../sim/rng.js';

describe('analysis grid', () => {
  it('picks, on every synchronised camera, the one frame nearest each grid instant', () => {
    const rng = new Rng(4);
    for (const [fps, analysisFps] of [[30, 7], [30, 30], [25, 3], [50, 10], [29.97, 5]] as const) {
      const g = analysisGrid(analysisFps, fps);
      const start = 1_796_001_388_863_729_295n + BigInt(Math.floor(rng.uniform(0, 1e9)));
      // Three cameras: the same exposures, stamped with ±0.5 ms of clock error each.
      const picked = [0, 1, 2].map(() => {
        const ks: number[] = [];
        for (let k = 0; k < fps * 20; k++) {
          const t = start + BigInt(Math.round((k / fps) * 1e9 + rng.uniform(-5e5, 5e5)));
          if (onAnalysisGrid(t, g)) ks.push(k);
        }
        return ks;
      });
      // 20 s: 20·analysisFps instants, give or take the one at either end.
      assert.ok(Math.abs(picked[0]!.length - 20 * analysisFps) <= 1, `${fps}/${analysisFps}: ${picked[0]!.length} frames`);
      // The same instants on every camera, but where an instant falls within the clock error of
      // the boundary between two frames (1 ms of a 20–40 ms frame here: a few per cent at most).
      const agree = picked[0]!.filter((k) => picked[1]!.includes(k) && picked[2]!.includes(k)).length;
      assert.ok(agree >= picked[0]!.length * 0.9 - 1, `${fps}/${analysisFps}: ${agree} of ${picked[0]!.length} instants agree`);
      // Each pick is the frame nearest an instant: within half a frame of it.
      for (const k of picked[0]!) {
        const t = start + BigInt(Math.round((k / fps) * 1e9));
        const off = Number(((t % g.gridNs) + g.gridNs) % g.gridNs);
        assert.ok(Math.min(off, Number(g.gridNs) - off) <= Number(g.frameNs) / 2 + 6e5, `${fps}/${analysisFps}: frame ${k} is ${off} ns from an instant`);
      }
      // A slack admits the picked frames and a few neighbours.
      const slack = [] as number[];
      for (let k = 0; k < fps * 20; k++) if (onAnalysisGrid(start + BigInt(Math.round((k / fps) * 1e9)), g, 2_000_000n)) slack.push(k);
      assert.ok(picked[0]!.every((k) => slack.includes(k)) || analysisFps === fps);
    }
  });

  it('refuses a rate it cannot keep, naming the field', () => {
    assert.throws(() => analysisGrid(40, 30, 'options.analysis_fps'), /options\.analysis_fps: expected frames analysed per second, > 0 and at most the cameras' 30 fps, got 40/);
    assert.throws(() => analysisGrid(0, 30), /analysis_fps: .*got 0/);
    assert.throws(() => analysisGrid(5, Number.NaN), /fps: expected the cameras' frame rate/);
  });
});
