import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const native = join(dirname(fileURLToPath(import.meta.url)), '../../native');

interface Parity {
  width: number;
  blobs: number;
  mismatched: number;
  pass: boolean;
}
interface VoxelParity {
  budget_bytes: number;
  peaks: number;
  evicted: number;
  lost: number;
  mismatched: number;
  pass: boolean;
}
interface Report {
  ok: boolean;
  checks: { name: string; pass: boolean }[];
  motion_cpu: unknown[];
  voxel_cpu: { ray_length_m: number; rays: number; steps_per_s: number; votes_lost_share: number }[];
  cuda: { built: boolean; available: boolean; device: string; reason: string; parity?: Parity[]; voxel_parity?: VoxelParity[] };
}

describe('native standalone program (no Node)', function () {
  this.timeout(240_000);

  it('device-check.sh builds it with make and its checks pass; it says whether and why there is a GPU path', () => {
    const out = JSON.parse(execFileSync('bash', [join(native, 'scripts/device-check.sh'), '--quick'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })) as { gpu: string; result: Report };
    assert.equal(out.result.ok, true);
    assert.ok(out.result.checks.every((c) => c.pass));
    assert.equal(out.result.motion_cpu.length, 12, '1080p, 4K, 8K × one thread and all × with and without the stationary protection');
    // Voxel casting from 100 m to 5 km, each row with every timed step voting (else fewer rays).
    assert.deepEqual(out.result.voxel_cpu.map((v) => v.ray_length_m), [100, 500, 1000, 2000, 5000]);
    for (const v of out.result.voxel_cpu) assert.ok(v.votes_lost_share === 0 && v.rays >= 4 && v.steps_per_s > 0, JSON.stringify(v));
    const cuda = out.result.cuda;
    if (cuda.available) assert.ok(cuda.parity!.every((p) => p.pass) && cuda.voxel_parity!.every((p) => p.pass), JSON.stringify(cuda));
    else assert.ok(cuda.reason.length > 10, 'says why there is no GPU path');
  });

  it("the CUDA twins' kernels and host code, run by host emulation, give the CPU's blobs and peaks exactly", () => {
    execFileSync('make', ['-s', '-C', native, 'build/skyvox-native-test-emu'], { stdio: ['ignore', 'ignore', 'inherit'] });
    const out = JSON.parse(execFileSync(join(native, 'build/skyvox-native-test-emu'), ['--quick'], { encoding: 'utf8' })) as Report;
    assert.equal(out.cuda.device, 'host emulation');
    const parity = out.cuda.parity!;
    assert.equal(parity.length, 3, '8-bit, 16-bit, tiles of 10');
    for (const p of parity) {
      assert.ok(p.blobs > 100, `${p.width}: ${p.blobs} blobs compared`);
      assert.equal(p.mismatched, 0, JSON.stringify(p));
    }
    // The voxel twin: steps, bricks, evictions, lost votes and peaks, under a budget that
    // evicts and loses votes and one that only evicts.
    const voxel = out.cuda.voxel_parity!;
    assert.equal(voxel.length, 2);
    assert.ok(voxel[0]!.lost > 0 && voxel[0]!.evicted > 0, JSON.stringify(voxel[0]));
    for (const v of voxel) {
      assert.ok(v.peaks > 20, `${v.budget_bytes}: ${v.peaks} peaks compared`);
      assert.equal(v.mismatched, 0, JSON.stringify(v));
    }
    assert.equal(out.ok, true);
  });
});
