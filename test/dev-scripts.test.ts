import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const scripts = join(dirname(fileURLToPath(import.meta.url)), '../../scripts');

describe('developer scripts', function () {
  this.timeout(120_000);

  it('late-scans.js finds the late scans and the mark-compacts and CPU stalls under way then', () => {
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
      // Stalls: one in the window of the late scan at 1.5 s (20 ms before its exposure), one of
      // 3 ms (under --stall-ms) in the window of the one at 1.2 s, one in an on-time scan's.
      const stalls = [
        { cpu: 0, at_ms: t0 + 1480, late_ms: 9 },
        { cpu: 1, at_ms: t0 + 1210, late_ms: 3 },
        { cpu: 1, at_ms: t0 + 1005, late_ms: 6 },
      ];
      writeFileSync(join(dir, 'stalls.jsonl'), stalls.map((x) => JSON.stringify(x)).join('\n') + '\n');
      const run = (...args: string[]) => JSON.parse(execFileSync(process.execPath, [join(scripts, 'late-scans.js'), dir, ...args], { encoding: 'utf8' }));
      const out = run('--gc-log', join(dir, 'run.log'), '--stalls', join(dir, 'stalls.jsonl'));
      assert.equal(out.scans, latencies.length);
      assert.equal(out.late, 3);
      assert.equal(out.late_in_first_second, 1);
      assert.equal(out.late_after_first_second, 2);
      assert.equal(out.of_those_near_a_mark_compact, 1);
      assert.equal(out.mark_compacts_during_run, 1, 'the one before the first exposure is not during the run');
      assert.deepEqual(out.late_scans.map((s: { at_s: number; near_mark_compact: boolean }) => [s.at_s, s.near_mark_compact]), [[0, false], [1.2, true], [1.5, false]]);
      assert.equal(out.of_those_near_a_stall, 1);
      assert.equal(out.on_time_after_first_second, 5);
      assert.equal(out.of_those_near_a_stall_on_time, 1, 'the scan at 1.0 s');
      assert.deepEqual(out.late_scans.map((s: { near_stall: boolean }) => s.near_stall), [false, false, true]);
      // Without a GC log or stalls, only the latencies.
      const bare = run('--late-ms', '65');
      assert.equal(bare.late, 2);
      assert.equal(bare.of_those_near_a_mark_compact, undefined);
      assert.equal(bare.of_those_near_a_stall, undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stall-probe.js reports late wake-ups on every CPU', () => {
    // A threshold far under any wake-up's lateness: every one is reported.
    const before = Date.now();
    const out = execFileSync(process.execPath, [join(scripts, 'stall-probe.js'), '--duration-s', '0.5', '--threshold-ms', '0.001'], { encoding: 'utf8' });
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { cpu: number; at_ms: number; late_ms: number });
    const cpus = new Set(lines.map((l) => l.cpu));
    assert.deepEqual([...cpus].sort(), Array.from({ length: availableParallelism() }, (_, i) => i));
    for (const l of lines) {
      assert.ok(l.late_ms > 0.001, JSON.stringify(l));
      assert.ok(l.at_ms >= before && l.at_ms <= Date.now(), JSON.stringify(l));
    }
  });

  it('machine-check.js times fixed work on one CPU and on all, and a fresh page', () => {
    const out = JSON.parse(execFileSync(process.execPath, [join(scripts, 'machine-check.js'), '--rounds', '3', '--fault-mib', '16'], { encoding: 'utf8' }));
    assert.equal(out.cpus, availableParallelism());
    for (const w of [out.work_ms_one_cpu, out.work_ms_every_cpu]) assert.ok(w.min > 0 && w.min <= w.median && w.median <= w.max, JSON.stringify(w));
    assert.equal(out.every_cpu_slowdown, Number((out.work_ms_every_cpu.median / out.work_ms_one_cpu.median).toFixed(2)));
    assert.ok(out.page_fault.first_write_us_per_page > 0 && out.page_fault.rewrite_us_per_page > 0, JSON.stringify(out.page_fault));
  });

  it('identity-timeline.js gives each target\'s track identities over time and how well the rig saw it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyvox-ids-'));
    try {
      // Ten frames 0.1 s apart of quick's drone d1 (and a bird): t1 has it for five scans, then
      // a tentative track and one 3 m off (neither covers it), then t2.
      const t0 = 1_700_000_000_000_000_000n;
      const at = (k: number) => String(t0 + BigInt(k) * 100_000_000n);
      const p = (k: number) => [-120 + k, 40, 60];
      const truth = Array.from({ length: 10 }, (_, k) => ({ t_ns: at(k), frame: k, objects: [{ id: 'd1', kind: 'drone', clutter: false, size_m: 0.7, position: p(k), velocity: [10, 0, 0] }, { id: 'bird1', kind: 'bird', clutter: true, size_m: 0.3, position: [0, 100, 50], velocity: [0, 0, 0] }] }));
      const track = (id: string, status: string, pos: number[]) => ({ id, status, position: pos, velocity: [10, 0, 0], covariance: '', score: 1, views: 2 });
      const scans = truth.map((_, k) => {
        const [x, y, z] = p(k) as [number, number, number];
        const tracks = k < 5 ? [track('t1', 'confirmed', [x, y, z])] : k < 7 ? [track('t3', 'tentative', [x, y, z]), track('t4', 'confirmed', [x, y + 3, z])] : [track('t2', 'coasting', [x + 0.5, y, z])];
        return { t_ns: at(k), scan: k, published_ns: at(k), tracks };
      });
      writeFileSync(join(dir, 'truth.jsonl'), truth.map((x) => JSON.stringify(x).replace(/"t_ns":"(\d+)"/, '"t_ns":$1')).join('\n') + '\n');
      writeFileSync(join(dir, 'tracks.jsonl'), scans.map((x) => JSON.stringify(x).replace(/"(t_ns|published_ns)":"(\d+)"/g, '"$1":$2')).join('\n') + '\n');
      const out = execFileSync(process.execPath, [join(scripts, 'identity-timeline.js'), dir, 'quick', '--bin-s', '0.5'], { encoding: 'utf8' }).trim().split('\n');
      assert.equal(out.length, 2, 'the bird is clutter: one target, two lines');
      assert.equal(out[0], 'd1 tracks: t1 0.00–0.40 s, - 0.50–0.60 s, t2 0.70–0.90 s');
      assert.match(out[1]!, /^d1 seen by 2 pairs at Pd 0\.5\/0\.1, per 0\.5 s from 0: \d\.\d\/\d\.\d \d\.\d\/\d\.\d$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('confirmation.js counts each mono detection by what made it and whether fusion confirmed it', () => {
    const lines = execFileSync(process.execPath, [join(scripts, 'confirmation.js'), 'dusk2', '2'], { encoding: 'utf8' }).trim().split('\n').map((l) => JSON.parse(l) as Record<string, number | string | null>);
    const byKind = new Map(lines.filter((l) => l.kind !== undefined).map((l) => [l.kind, l]));
    // dusk2's dark sky: the thermal cameras see its drones best, and never pixel noise or a glint.
    assert.ok((byKind.get('drone')!.confirmed_share as number) > 0.5, JSON.stringify(byKind.get('drone')));
    assert.equal(byKind.get('false alarm')!.confirmed, 0);
    const summary = lines.at(-1)!;
    assert.deepEqual([summary.scenario, summary.pairs, summary.false_alarms_cut], ['dusk2', 2, 1]);
    assert.throws(() => execFileSync(process.execPath, [join(scripts, 'confirmation.js'), 'nosuch'], { stdio: 'pipe' }), /nosuch/);
  });

  it('offline-eval.js writes a recording `skyvox eval` scores, the same on every run, and takes an options file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'skyvox-offline-'));
    try {
      const run = (out: string, ...extra: string[]) => JSON.parse(execFileSync(process.execPath, [join(scripts, 'offline-eval.js'), 'form4', join(dir, out), '2', ...extra], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as { frames: number; scans: number };
      const a = run('a');
      assert.equal(a.frames, 20);
      assert.equal(a.scans, 20);
      const lines = (f: string) => readFileSync(join(dir, f), 'utf8').trim().split('\n');
      assert.equal(lines('a/truth.jsonl').length, 20);
      assert.equal(lines('a/meas.jsonl').length, 20);
      const tracks = lines('a/tracks.jsonl');
      assert.equal(JSON.parse(tracks.at(-1)!).t_ns, JSON.parse(lines('a/truth.jsonl').at(-1)!).t_ns);
      run('b');
      assert.deepEqual(lines('b/tracks.jsonl'), tracks, 'deterministic');
      writeFileSync(join(dir, 'o.yaml'), 'voxel:\n  split_pairings: 0\n');
      run('c', '--options', join(dir, 'o.yaml'));
      assert.notDeepEqual(lines('c/tracks.jsonl'), tracks, 'the formation comes out otherwise without the split');
      writeFileSync(join(dir, 'bad.yaml'), 'voxel:\n  split_pairing: 0\n');
      assert.throws(() => run('d', '--options', join(dir, 'bad.yaml')), /split_pairing: unknown setting/);
      execFileSync(process.execPath, [join(scripts, '../bin/skyvox.js'), 'eval', '--truth', join(dir, 'a/truth.jsonl'), '--tracks', join(dir, 'a/tracks.jsonl'), '--scenario', 'form4', '--out', join(dir, 'r.json')], { stdio: 'ignore' });
      const evaluated = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { mota: number; scans: number };
      assert.ok(evaluated.mota > 0.5, `MOTA ${evaluated.mota}`);
      // --from-s: the run's later scans alone (form4 plays at 10 fps: 1.05 s in leaves frames 11–19).
      execFileSync(process.execPath, [join(scripts, '../bin/skyvox.js'), 'eval', '--truth', join(dir, 'a/truth.jsonl'), '--tracks', join(dir, 'a/tracks.jsonl'), '--from-s', '1.05', '--out', join(dir, 'late.json')], { stdio: 'ignore' });
      const late = JSON.parse(readFileSync(join(dir, 'late.json'), 'utf8')) as { scans: number };
      assert.deepEqual([evaluated.scans, late.scans], [20, 9]);
      assert.throws(() => execFileSync(process.execPath, [join(scripts, '../bin/skyvox.js'), 'eval', '--truth', join(dir, 'a/truth.jsonl'), '--tracks', join(dir, 'a/tracks.jsonl'), '--from-s', '-1'], { stdio: 'pipe' }), /--from-s/);
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
