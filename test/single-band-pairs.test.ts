import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { OfflinePipeline } from '../actors/batch-worker/offline-pipeline.js';
import { passThrough } from '../actors/fusion/fuse.js';
import { binToF32 } from '../bus/codec.js';
import { observableFor } from '../eval/observable.js';
import { readJsonLines } from '../eval/read.js';
import { BLOB_STRIDE } from '../schemas/detections.js';
import { FUSED_SOURCE, FUSED_STRIDE } from '../schemas/fused.js';
import { loadScenario, parseScenario, type Scenario } from '../sim/scenario.js';
import { Simulator } from '../sim/simulator.js';
import { scratchDir } from './helpers/scratch.js';
import { skyvoxRun } from './helpers/cli.js';

/** quick in detection mode with only the cameras `keep` accepts. */
function quickWith(keep: (id: string) => boolean): Scenario {
  const q = JSON.parse(JSON.stringify(loadScenario('quick')));
  return parseScenario({ ...q, mode: 'detections', cameras: q.cameras.filter((c: { id: string }) => keep(c.id)) });
}

/** Share of the drones' frames a confirmed track covers within 2 m, the pipeline run offline on the scenario's detections. */
async function coverage(s: Scenario): Promise<number> {
  const sim = new Simulator(s, 0n);
  const pipeline = new OfflinePipeline(s);
  const byTime = new Map<bigint, [number, number, number][]>();
  for (let k = 0; k < sim.frameCount; k++) {
    for (const cam of sim.cameras) {
      const out = sim.detections(cam, k);
      if (!out) continue;
      for (const scan of await pipeline.push(out.frame)) byTime.set(scan.tracks.t_ns, scan.tracks.tracks.filter((t) => t.status !== 'tentative').map((t) => t.position));
    }
  }
  let [covered, total] = [0, 0];
  for (let k = 0; k < sim.frameCount; k++) {
    const truth = sim.truth(k);
    // The scan nearest the frame's site time (the cameras' clocks differ by a few ms).
    let best: [number, number, number][] = [];
    let gap = Infinity;
    for (const [t, tracks] of byTime) {
      const d = Math.abs(Number(t - truth.t_ns));
      if (d < gap) [gap, best] = [d, tracks];
    }
    for (const o of truth.objects.filter((x) => !x.clutter)) {
      total++;
      if (best.some((p) => Math.hypot(p[0] - o.position[0], p[1] - o.position[1], p[2] - o.position[2]) < 2)) covered++;
    }
  }
  return covered / total;
}

/** Share of the drones' frames two pairs can see (eval/observable.ts). */
function observableShare(s: Scenario): number {
  const sim = new Simulator(s, 0n);
  const seen = observableFor(s);
  let [n, total] = [0, 0];
  for (let k = 0; k < sim.frameCount; k++) {
    for (const o of sim.truth(k).objects.filter((x) => !x.clutter)) {
      total++;
      if (seen(o.position, o.kind, o.size_m)) n++;
    }
  }
  return n / total;
}

describe('pairs with one camera', function () {
  this.timeout(120_000);
  let dir = '';
  scratchDir('single-band', (d) => (dir = d));

  it('a lone camera\'s detections pass on as they are: mono ones unconfirmed, thermal ones thermal-only', () => {
    const s = quickWith(() => true);
    const sim = new Simulator(s, 0n);
    for (const [id, band, source] of [['p1-mono', 'mono', FUSED_SOURCE.monoOnly], ['p1-ir', 'thermal', FUSED_SOURCE.thermalOnly]] as const) {
      const det = sim.detections(sim.cameras.find((c) => c.id === id)!, 5)!.frame;
      const f = passThrough('p1', det, band);
      assert.equal(f.count, det.count);
      assert.deepEqual([f.mono, f.thermal, f.seq, f.thermal_seen], band === 'mono' ? [id, '', det.seq, false] : ['', id, det.seq, true]);
      const [a, b] = [binToF32(det.blobs), binToF32(f.blobs)];
      for (let i = 0; i < det.count; i++) {
        assert.deepEqual([...b.subarray(i * FUSED_STRIDE, i * FUSED_STRIDE + BLOB_STRIDE)], [...a.subarray(i * BLOB_STRIDE, (i + 1) * BLOB_STRIDE)]);
        assert.equal(b[i * FUSED_STRIDE + BLOB_STRIDE + 1], source);
      }
    }
  });

  it('a rig without thermal cameras, and one whose pair has only its thermal camera, still track every drone', async () => {
    // Before, only pairs with both bands were fused: without thermal cameras nothing was tracked.
    const monoOnly = await coverage(quickWith((id) => id.endsWith('-mono')));
    const thermalRig = quickWith((id) => id !== 'p2-mono');
    const thermalPair = await coverage(thermalRig);
    const both = await coverage(quickWith(() => true));
    assert.ok(both > 0.95, `both bands: ${both}`);
    assert.ok(monoOnly > 0.95, `mono cameras only: ${monoOnly}`);
    // p2's thermal camera sees less of the sky, and less sharply, than its mono camera did: by
    // the sensor model two pairs see the drones in 60 % of their frames; tracks do at least that.
    const seen = observableShare(thermalRig);
    assert.ok(seen > 0.5 && seen < 0.7, `observable share ${seen}`);
    assert.ok(thermalPair >= seen, `pair p2 with its thermal camera only: ${thermalPair} of the frames, ${seen} observable`);
  });

  it('`skyvox up` on a rig of one pair says no track will come', async () => {
    const file = join(dir, 'one-pair.yaml');
    writeFileSync(file, stringify({ ...quickWith((id) => id.startsWith('p1-')), duration_s: 1 }));
    const run = await skyvoxRun(['up', '--scenario', file, '--nats-port', '0', '--ws-port', '0', '--data-dir', join(dir, 'data1')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /one camera pair: a 3D position needs two/);
  });

  it('`skyvox up` on a rig without thermal cameras publishes confirmed tracks', async () => {
    const file = join(dir, 'mono-only.yaml');
    writeFileSync(file, stringify({ ...quickWith((id) => id.endsWith('-mono')), duration_s: 3 }));
    const rec = join(dir, 'rec');
    const run = await skyvoxRun(['up', '--scenario', file, '--record', rec, '--nats-port', '0', '--ws-port', '0', '--data-dir', join(dir, 'data')]);
    assert.equal(run.code, 0, run.stderr);
    const scans = readJsonLines<{ tracks: { status: string }[] }>(join(rec, 'tracks.jsonl'));
    assert.ok(scans.length > 50, `${scans.length} scans`);
    assert.ok(scans.at(-1)!.tracks.filter((t) => t.status === 'confirmed').length >= 4, 'the drones are tracked at the end');
  });
});
