import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadScenario } from '../sim/scenario.js';
import { killAll, skyvoxRun } from './helpers/cli.js';

describe('skyvox replay', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'skyvox-replay-'));
  });
  afterEach(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('re-runs a recording at another speed and gets the run it recorded; bad lines are dead-lettered, not fatal', async () => {
    const scenario = join(dir, 'quick-det.yaml');
    writeFileSync(scenario, stringify({ ...JSON.parse(JSON.stringify(loadScenario('quick'))), mode: 'detections' }));
    const common = ['--nats-port', '0', '--ws-port', '0', '--data-dir', join(dir, 'data')];
    const rec = join(dir, 'rec');
    const live = await skyvoxRun(['up', '--scenario', scenario, '--duration', '4', '--record', rec, '--record-detections', '--report', join(dir, 'live.json'), ...common]);
    assert.equal(live.code, 0, live.stderr);
    type Report = { scans: number; mota: number; idf1: number; id_switches: number; false_track_rate: number; latency_ms: unknown };
    const a = JSON.parse(readFileSync(join(dir, 'live.json'), 'utf8')) as Report;
    // Same data dir: the live run's checkpoint and archive are there and must not leak into the replay.
    for (const from of ['det', 'meas']) {
      const res = await skyvoxRun(['replay', rec, '--from', from, '--speed', '3', '--report', join(dir, `${from}.json`), ...common]);
      assert.equal(res.code, 0, res.stderr);
      const b = JSON.parse(readFileSync(join(dir, `${from}.json`), 'utf8')) as Report;
      assert.deepEqual([b.scans, b.mota, b.idf1, b.id_switches, b.false_track_rate], [a.scans, a.mota, a.idf1, a.id_switches, a.false_track_rate], `replay from ${from}`);
      assert.equal(b.latency_ms, null, 'no live latency in a replay');
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
});
