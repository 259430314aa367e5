import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { quickInDetectionMode, scratchDir } from './helpers/scratch.js';
import { skyvoxRun } from './helpers/cli.js';
import { startTestNats } from './helpers/nats.js';
import { assertSameTracks, assertStagesDroppedNothing, type Scan as TrackScan } from './helpers/tracks.js';
import { readJsonLines } from '../eval/read.js';

/**
 * Stage settings under which a live run and its replay take the same decisions, however either
 * is timed: each instant waits for the tracker's answer to the one before (the default 20 ms is
 * not always enough on a loaded 2-vCPU machine), and no frameset is dropped while the voxel
 * stage is busy — the same tracks then aid the same association.
 */
function deterministicStages(dir: string): string {
  const file = join(dir, 'track-wait.yaml');
  writeFileSync(file, 'voxel:\n  track_wait_ms: 1000\n  queue: 1000\n');
  return file;
}

describe('skyvox replay', function () {
  this.timeout(60_000);
  let dir = '';
  scratchDir('replay', (d) => (dir = d));

  it('re-runs a recording at another speed and gets the run it recorded; bad lines are dead-lettered, not fatal', async () => {
    const scenario = quickInDetectionMode(dir);
    const options = deterministicStages(dir);
    const common = ['--nats-port', '0', '--ws-port', '0', '--data-dir', join(dir, 'data'), '--options', options];
    const rec = join(dir, 'rec');
    const live = await skyvoxRun(['up', '--scenario', scenario, '--duration', '4', '--record', rec, '--record-detections', '--report', join(dir, 'live.json'), ...common]);
    assert.equal(live.code, 0, live.stderr);
    assertStagesDroppedNothing(rec, 'the live run');
    type Report = { mota: number; id_switches: number; latency_ms: unknown };
    const a = JSON.parse(readFileSync(join(dir, 'live.json'), 'utf8')) as Report;
    // Same data dir: the live run's checkpoint and archive are there and must not leak into the replay.
    const liveScans = readJsonLines<TrackScan>(join(rec, 'tracks.jsonl'));
    for (const from of ['det', 'meas']) {
      const out = join(dir, `out-${from}`);
      const res = await skyvoxRun(['replay', rec, '--from', from, '--speed', '3', '--record', out, '--report', join(dir, `${from}.json`), ...common]);
      assert.equal(res.code, 0, res.stderr);
      const b = JSON.parse(readFileSync(join(dir, `${from}.json`), 'utf8')) as Report;
      assert.equal(b.latency_ms, null, 'no live latency in a replay');
      assert.ok(Math.abs(b.mota - a.mota) < 0.02 && b.id_switches === a.id_switches, `replay from ${from}: ${JSON.stringify(b)} vs live ${JSON.stringify(a)}`);
      // Scan by scan, the replay is the live run: same tracks, same IDs, same positions.
      assertStagesDroppedNothing(out, `the replay from ${from}`);
      assertSameTracks(liveScans, readJsonLines<TrackScan>(join(out, 'tracks.jsonl')), `replay from ${from}`);
    }
    // A damaged recording: the bad line is refused with its place, the rest replays.
    const lines = readFileSync(join(rec, 'detections.jsonl'), 'utf8').split('\n');
    lines[10] = '{"t_ns": "soon", "cam": 7}';
    writeFileSync(join(rec, 'detections.jsonl'), lines.join('\n'));
    const bad = await skyvoxRun(['replay', rec, '--speed', '3', ...common], { env: { SKYVOX_LOG_LEVEL: 'info' } });
    assert.equal(bad.code, 0, bad.stderr);
    assert.match(bad.stderr, /"invalid":1,"msg":"replay finished"/);
    const missing = await skyvoxRun(['replay', join(dir, 'nowhere'), ...common]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nowhere\/detections\.jsonl does not exist/);
  });

  it('replays a site\'s detection archive (`replay stream`) into the run it came from', async () => {
    const site = await startTestNats();
    try {
      const scenario = quickInDetectionMode(dir);
      const rec = join(dir, 'rec');
      const options = deterministicStages(dir);
      const live = await skyvoxRun(['up', '--nats', site.server.url, '--data-dir', site.dataDir, '--scenario', scenario, '--duration', '4', '--archive-detections', '--record', rec, '--options', options]);
      assert.equal(live.code, 0, live.stderr);
      const out = join(dir, 'out');
      const res = await skyvoxRun(['replay', 'stream', '--source-nats', site.server.url, '--data-dir', site.dataDir, '--since', 'start', '--scenario', scenario, '--record', out, '--nats-port', '0', '--ws-port', '0', '--options', options]);
      assert.equal(res.code, 0, res.stderr);
      assertSameTracks(readJsonLines<TrackScan>(join(rec, 'tracks.jsonl')), readJsonLines<TrackScan>(join(out, 'tracks.jsonl')), 'replay stream');
      const usage = await skyvoxRun(['replay', 'stream', '--source-nats', site.server.url, '--data-dir', site.dataDir]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /the rig is needed: --scenario S/);
    } finally {
      await site.dispose();
    }
  });
});
