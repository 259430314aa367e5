import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBoxLabels, scoreAgainstBoxes } from '../eval/box-labels.js';
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
