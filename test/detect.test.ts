import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBoxLabels, scoreAgainstBoxes } from '../eval/box-labels.js';
import { applyDetectionMask, type DetectionMask, readDetectionMask } from '../kernels/detection-mask.js';
import { scratchDir } from './helpers/scratch.js';
import { skyvoxRun } from './helpers/cli.js';

// Compiled to dist/test: the fixtures stay in the source tree.
const REAL = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/real');

describe('skyvox detect: real footage through the motion kernel', function () {
  this.timeout(60_000);
  let dir = '';
  scratchDir('detect', (d) => (dir = d));

  it('finds the distant drone of a real clip in every labelled frame, and writes each frame\'s detections', async () => {
    const out = join(dir, 'det.jsonl');
    const run = await skyvoxRun(['detect', join(REAL, 'V_DRONE_008.mp4'), '--labels', join(REAL, 'V_DRONE_008_LABELS.csv'), '--out', out]);
    assert.equal(run.code, 0, run.stderr);
    const s = JSON.parse(run.stdout);
    assert.deepEqual([s.width, s.height, s.fps, s.frames_detected + s.warmup_frames], [640, 512, 30, 302]);
    assert.ok(s.score.recall >= 0.95, `recall ${s.score.recall}`);
    assert.ok(s.score.median_offset_px < 3, `median offset from the box centre ${s.score.median_offset_px} px`);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, s.frames_detected);
    assert.ok(lines.every((l) => l.count === l.blobs.length && l.blobs.every((b: { x: number; snr: number }) => Number.isFinite(b.x) && b.snr > 0)));
  });

  it('finds the birds of a real thermal clip in most labelled frames', async () => {
    const run = await skyvoxRun(['detect', join(REAL, 'IR_BIRD_001.mp4'), '--labels', join(REAL, 'IR_BIRD_001_LABELS.csv')]);
    assert.equal(run.code, 0, run.stderr);
    const s = JSON.parse(run.stdout);
    assert.ok(s.score.boxes > 300 && s.score.recall >= 0.9, `recall ${s.score.recall} over ${s.score.boxes} boxes`);
  });

  it('a sky mask leaves out the tree line\'s motion and keeps the drone; a mask of another size is refused', async () => {
    // The sky above the tree line, read off the clip's first frame: rows 0–339 of 512.
    const mask = join(dir, 'sky.pgm');
    const [w, h] = [640, 512];
    writeFileSync(mask, Buffer.concat([Buffer.from(`P5\n# sky\n${w} ${h}\n255\n`), Buffer.from(Array.from({ length: w * h }, (_, i) => (Math.floor(i / w) < 340 ? 255 : 0)))]));
    const run = await skyvoxRun(['detect', join(REAL, 'V_DRONE_008.mp4'), '--labels', join(REAL, 'V_DRONE_008_LABELS.csv'), '--mask', mask]);
    assert.equal(run.code, 0, run.stderr);
    const s = JSON.parse(run.stdout);
    assert.ok(s.score.recall >= 0.95, `recall ${s.score.recall}`);
    assert.ok(s.score.false_alarms_per_frame < 10, `false alarms per frame with the mask: ${s.score.false_alarms_per_frame} (over 100 without)`);
    const small = join(dir, 'small.pgm');
    writeFileSync(small, Buffer.concat([Buffer.from('P5 4 4 255\n'), Buffer.alloc(16, 255)]));
    const bad = await skyvoxRun(['detect', join(REAL, 'V_DRONE_008.mp4'), '--mask', small]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /expected 640×512 pixels \(the frame's size\), got 4×4/);
    writeFileSync(small, 'P2 4 4 255\n');
    assert.throws(() => readDetectionMask(small), /expected a binary 8-bit PGM/);
    const keepLeft: DetectionMask = { width: 4, height: 2, keep: Uint8Array.from([1, 1, 0, 0, 1, 1, 0, 0]) };
    const blob = (x: number, y: number) => ({ x, y, varX: 0, varY: 0, covXY: 0, flux: 1, area: 1, snr: 9, peak: 1, x0: 0, y0: 0, x1: 0, y1: 0 });
    const out = applyDetectionMask({ blobs: [blob(0.6, 0.4), blob(2.2, 1), blob(1.4, 1.6)], overflow: 0, foregroundPixels: 3, warmingUp: false }, keepLeft);
    assert.deepEqual([out.blobs.map((b) => b.x), out.masked], [[0.6, 1.4], 1]);
  });

  it('labels: counted from their origin, scored by centroids in boxes; a bad file is refused naming the line', async () => {
    const file = join(dir, 'l.csv');
    writeFileSync(file, 'frame,label,x,y,width,height\n0,DRONE,11,21,4,4\n1,BIRD,1,1,2,2\n');
    const labels = readBoxLabels(file, 1);
    assert.deepEqual(labels.get(0), [{ x: 10, y: 20, width: 4, height: 4, label: 'DRONE' }]);
    const score = scoreAgainstBoxes(new Map([[0, [[12, 22], [50, 50]]], [1, [[9, 9]]]]), labels, 1);
    assert.deepEqual([score.frames, score.boxes, score.recall, score.false_alarms_per_frame, score.precision], [2, 2, 0.5, 1, 1 / 3]);
    writeFileSync(file, 'frame,label,x,y,width,height\n0,DRONE,11,21,4\n');
    const run = await skyvoxRun(['detect', join(REAL, 'IR_BIRD_001.mp4'), '--labels', file]);
    assert.equal(run.code, 2);
    assert.match(run.stderr, /line 2: expected frame/);
  });
});
