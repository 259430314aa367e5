import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const scripts = join(dirname(fileURLToPath(import.meta.url)), '../../scripts');

describe('developer scripts', function () {
  this.timeout(120_000);

  it('late-scans.js finds the late scans and the mark-compacts under way then', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyvox-late-'));
    try {
      // The process started at epoch 1 000 000 ms; its first exposure 2 s later, a scan every 100 ms.
      const origin = 1_000_000;
      const t0 = origin + 2000;
      const latencies = [80, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 70, 10, 10, 60, 10];
      const lines = latencies.map((l, k) => {
        const t = BigInt(t0 + 100 * k) * 1_000_000n;
        return JSON.stringify({ t_ns: String(t), published_ns: String(t + BigInt(l * 1e6)), tracks: [] });
      });
      writeFileSync(join(dir, 'tracks.jsonl'), lines.join('\n') + '\n');
      // A mark-compact 50 ms after the exposure of the scan at 1.2 s (late); none near the one at 1.5 s.
      const log = [
        `{"level":30,"msg":"node up","time_origin_ms":${origin}}`,
        `[1:0x1]     1500 ms: Mark-Compact 60.0 (90.0) -> 20.0 (90.0) MB, 3.00 / 0.01 ms (finalize)`,
        `[1:0x1]     3250 ms: Mark-Compact 61.0 (90.0) -> 20.0 (90.0) MB, 3.00 / 0.01 ms (finalize)`,
        `[1:0x1]     3300 ms: Scavenge 30.0 (40.0) -> 20.0 (40.0) MB, 1.00 / 0.00 ms`,
      ].join('\n');
      writeFileSync(join(dir, 'run.log'), log + '\n');
      const out = JSON.parse(execFileSync(process.execPath, [join(scripts, 'late-scans.js'), join(dir, 'run.log'), dir], { encoding: 'utf8' }));
      assert.equal(out.scans, latencies.length);
      assert.equal(out.late, 3);
      assert.equal(out.late_in_first_second, 1);
      assert.equal(out.late_after_first_second, 2);
      assert.equal(out.of_those_near_a_mark_compact, 1);
      assert.equal(out.mark_compacts_during_run, 1, 'the one before the first exposure is not during the run');
      assert.deepEqual(out.late_scans.map((s: { at_s: number; near_mark_compact: boolean }) => [s.at_s, s.near_mark_compact]), [[0, false], [1.2, true], [1.5, false]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cold-start.js times the voxel stage on a fresh pipeline\'s first framesets', () => {
    const out = execFileSync(process.execPath, [join(scripts, 'cold-start.js'), 'tri3', '3', '2'], { encoding: 'utf8' });
    const rounds = out.trim().split('\n');
    assert.equal(rounds.length, 2);
    for (const [i, r] of rounds.entries()) {
      assert.match(r, new RegExp(`^round ${i + 1}: `));
      const framesets = r.split(' | ');
      assert.ok(framesets.length >= 2, r);
      // The first frameset votes every ray; the later ones only what the first one's points left.
      const rays = framesets.map((f) => Number(/, (\d+) rays,/.exec(f)![1]));
      assert.ok(rays[0]! > 0 && rays[0]! > rays.at(-1)!, r);
    }
  });
});
