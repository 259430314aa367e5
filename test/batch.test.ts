import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { OfflinePipeline } from '../actors/batch-worker/offline-pipeline.js';
import { parseRecordedLine } from '../actors/replayer/replayer.js';
import { readJsonLines } from '../eval/read.js';
import type { DetectionFrame } from '../schemas/detections.js';
import type { MessageOf } from '../schemas/message.js';
import { loadScenario } from '../sim/scenario.js';
import { quickInDetectionMode, scratchDir } from './helpers/scratch.js';
import { skyvox, skyvoxRun } from './helpers/cli.js';
import { startTestNats, waitFor } from './helpers/nats.js';

import { assertSameTracks, assertStagesDroppedNothing, type Scan } from './helpers/tracks.js';

describe('batch processing', function () {
  this.timeout(120_000);
  let dir = '';
  scratchDir('batch', (d) => (dir = d));

  it('the offline pipeline turns a live run\'s detections into that run\'s tracks', async () => {
    const scenario = quickInDetectionMode(dir);
    const rec = join(dir, 'rec');
    // Each instant waits for the tracker's answer to the one before, and none is dropped while
    // the voxel stage is busy, as offline (the defaults let a loaded machine's live run differ).
    const options = join(dir, 'keep-up.yaml');
    writeFileSync(options, stringify({ voxel: { track_wait_ms: 1000, queue: 1000 } }));
    const live = await skyvoxRun(['up', '--scenario', scenario, '--options', options, '--duration', '4', '--record', rec, '--record-detections', '--nats-port', '0', '--ws-port', '0', '--data-dir', join(dir, 'data')]);
    assert.equal(live.code, 0, live.stderr);
    assertStagesDroppedNothing(rec, 'the live run');
    const dets = readFileSync(join(rec, 'detections.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => parseRecordedLine(l, ['blobs']) as MessageOf<typeof DetectionFrame>)
      .sort((a, b) => (a.t_ns < b.t_ns ? -1 : a.t_ns > b.t_ns ? 1 : 0));
    const pipeline = new OfflinePipeline(loadScenario(scenario));
    const scans: Scan[] = [];
    for (const d of dets) for (const o of await pipeline.push(d)) scans.push(o.tracks);
    for (const o of await pipeline.finish()) scans.push(o.tracks);
    assertSameTracks(readJsonLines<Scan>(join(rec, 'tracks.jsonl')), scans, 'offline');
  });

  describe('skyvox process', () => {
    let rec: string;
    let root: string;
    before(async function () {
      this.timeout(120_000);
      // A short pixel-mode run, recorded with its videos, slowly enough that every stage keeps up
      // (at half speed a 2-vCPU VM dropped frames while four ffmpeg encoders ran beside the run),
      // with framesets that wait for every view (a camera's first frames come late while its
      // kernel and encoder start, and a live instant without them is not the recording's), and
      // each waiting for the tracker's answer to the one before, as the batch's do; and none
      // dropped while the voxel stage is busy (a loaded machine's first scans are slow).
      root = mkdtempSync(join(tmpdir(), 'skyvox-process-'));
      const scenario = join(root, 'q4.yaml');
      writeFileSync(scenario, stringify({ ...JSON.parse(JSON.stringify(loadScenario('quick'))), duration_s: 4 }));
      const options = join(root, 'wait-for-every-view.yaml');
      writeFileSync(options, stringify({ fusion: { max_wait_ms: 1000 }, voxel: { max_wait_ms: 1000, track_wait_ms: 1000, queue: 1000 } }));
      rec = join(root, 'rec');
      const live = await skyvoxRun(['up', '--scenario', scenario, '--options', options, '--speed', '0.25', '--record', rec, '--record-video', '--record-detections', '--nats-port', '0', '--ws-port', '0', '--data-dir', join(root, 'live')]);
      assert.equal(live.code, 0, live.stderr);
      assertStagesDroppedNothing(rec, 'the live run');
    });
    after(() => rmSync(root, { recursive: true, force: true }));

    const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).sort();

    it('gives the live run\'s detections and tracks from its recorded videos', async () => {
      const out = join(dir, 'out');
      const res = await skyvoxRun(['process', rec, '--out', out, '--data-dir', join(dir, 'data'), '--report', join(dir, 'report.json')]);
      assert.equal(res.code, 0, res.stdout + res.stderr);
      assert.match(res.stdout, /motion-p1-mono-0: done/);
      const live = lines(join(rec, 'detections.jsonl'));
      assert.ok(live.length > 100, `${live.length} live detection frames`);
      assert.deepEqual(lines(join(out, 'detections.jsonl')), live, 'the same detections, frame by frame');
      assertSameTracks(readJsonLines<Scan>(join(rec, 'tracks.jsonl')), readJsonLines<Scan>(join(out, 'tracks.jsonl')), 'batch');
      const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as { mota: number };
      assert.ok(report.mota > 0.3, `mota ${report.mota}`);
      assert.match(res.stdout, new RegExp(`report\\.json: MOTA ${report.mota.toFixed(3)} `), 'the report\'s headline figures, printed');
    });

    it('a task whose worker is killed mid-way is redone once by another node; one that always fails is given up after 3 deliveries with a dead letter', async () => {
      const nats = await startTestNats();
      try {
        const nodes = ['w1', 'w2'].map((name) => ({ name, cli: skyvox(['node', '--nats', nats.server.url, '--name', name, '--batch-workers', '1', '--data-dir', nats.dataDir]) }));
        await waitFor(() => nodes.every((n) => /node w\d up/.test(n.cli.stdout())), 'two worker nodes', 30_000);
        const out = join(dir, 'out');
        const job = skyvox(['process', rec, '--nats', nats.server.url, '--data-dir', nats.dataDir, '--ack-wait-s', '2', '--out', out]);
        let victim = '';
        let task = '';
        await waitFor(() => {
          const m = /(motion-\S+): started on (w\d)\//.exec(job.stdout());
          if (m) [task, victim] = [m[1]!, m[2]!];
          return m !== null;
        }, 'a task started', 30_000);
        nodes.find((n) => n.name === victim)!.cli.child.kill('SIGKILL');
        const { code } = await job.exited;
        const text = job.stdout();
        assert.equal(code, 0, text + job.stderr());
        const survivor = victim === 'w1' ? 'w2' : 'w1';
        assert.match(text, new RegExp(`${task}: started on ${survivor}/batch-1 \\(attempt 2\\)`), text);
        assert.equal(text.match(new RegExp(`${task}: done`, 'g'))?.length, 1, text);
        assert.doesNotMatch(text, /attempt 3/);
        // Redone, the result is the same: the live run's tracks.
        assert.deepEqual(lines(join(out, 'detections.jsonl')), lines(join(rec, 'detections.jsonl')));
        assertSameTracks(readJsonLines<Scan>(join(rec, 'tracks.jsonl')), readJsonLines<Scan>(join(out, 'tracks.jsonl')), 'redone');

        // A damaged video: every delivery fails, the third writes the failed record and a dead letter.
        const bad = join(dir, 'bad');
        cpSync(rec, bad, { recursive: true });
        writeFileSync(join(bad, 'video', 'p2-ir.mkv'), 'not a video');
        const nc = await nats.connect('admin');
        const dead: string[] = [];
        nc.subscribe('skyvox.dead', {
          callback: (_e, m) => {
            dead.push(new TextDecoder().decode(m.data));
          },
        });
        const failing = await skyvoxRun(['process', bad, '--nats', nats.server.url, '--data-dir', nats.dataDir, '--ack-wait-s', '30', '--out', join(dir, 'bad-out')]);
        assert.equal(failing.code, 1, failing.stdout + failing.stderr);
        assert.match(failing.stdout, /motion-p2-ir-0: FAILED: .*p2-ir\.mkv.*\(attempt 3 of 3\)/);
        assert.equal(failing.stdout.match(/motion-p2-ir-0: started/g)?.length, 3);
        assert.match(failing.stdout, /job \S+ FAILED: motion-p2-ir-0/);
        const summary = JSON.parse(readFileSync(join(dir, 'bad-out', 'job.json'), 'utf8')) as { failed: string[] };
        assert.deepEqual(summary.failed, ['motion-p2-ir-0']);
        await waitFor(() => dead.some((d) => d.includes('task given up')), 'the dead letter', 5000);
      } finally {
        await nats.dispose();
      }
    });
  });
});
