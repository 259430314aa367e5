import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { OfflinePipeline } from '../actors/batch-worker/offline-pipeline.js';
import { parseRecordedLine } from '../actors/replayer/replayer.js';
import { readJsonLines } from '../eval/read.js';
import type { DetectionFrame } from '../schemas/detections.js';
import type { MessageOf } from '../schemas/message.js';
import { loadScenario } from '../sim/scenario.js';
import { killAll, skyvoxRun } from './helpers/cli.js';

type Scan = { t_ns: bigint; tracks: { id: string; status: string; position: number[] }[] };

/** Scan by scan, two track files agree: same instants (but for the live run's first and last), IDs, states and positions. */
export function assertSameTracks(live: Scan[], other: Scan[], what: string): void {
  const byT = new Map(other.map((s) => [s.t_ns, s]));
  const shared = live.filter((s) => byT.has(s.t_ns));
  assert.ok(shared.length >= live.length - 3 && live.length > 20, `${what}: ${shared.length} of ${live.length} instants`);
  const row = (s: Scan) => s.tracks.map((t) => [t.id, t.status, t.position.map((x) => x.toFixed(6))]);
  for (const s of shared) assert.deepEqual(row(byT.get(s.t_ns)!), row(s), `${what}: instant ${s.t_ns}`);
}

describe('batch processing', function () {
  this.timeout(120_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'skyvox-batch-'));
  });
  afterEach(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the offline pipeline turns a live run\'s detections into that run\'s tracks', async () => {
    const scenario = join(dir, 'quick-det.yaml');
    writeFileSync(scenario, stringify({ ...JSON.parse(JSON.stringify(loadScenario('quick'))), mode: 'detections' }));
    const rec = join(dir, 'rec');
    const live = await skyvoxRun(['up', '--scenario', scenario, '--duration', '4', '--record', rec, '--record-detections', '--nats-port', '0', '--ws-port', '0', '--data-dir', join(dir, 'data')]);
    assert.equal(live.code, 0, live.stderr);
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
});
