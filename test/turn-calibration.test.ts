import assert from 'node:assert/strict';
import { TurnCalibration, type TurnView } from '../actors/voxel/turn-calibration.js';
import { checkVoxelStageOptions, VoxelStage } from '../actors/voxel/voxel-stage.js';
import { Camera, intrinsicsFromFov } from '../geometry/camera.js';
import { lookAt } from '../geometry/rotation.js';
import type { Vec3 } from '../geometry/vec3.js';
import { rigOf, trueRigOf } from '../sim/rig.js';
import { Rng } from '../sim/rng.js';
import { runOffline, squareRig } from './helpers/square-rig.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { Bus } from '../bus/bus.js';
import { decode } from '../bus/codec.js';
import { ensureKv } from '../bus/jetstream.js';
import { LearnedTurns } from '../schemas/calibration.js';
import { CtlReply, CtlRequest } from '../schemas/ctl.js';
import { validate } from '../schemas/message.js';
import { skyvox } from './helpers/cli.js';
import { startTestNats, waitFor } from './helpers/nats.js';
import { scratchDir } from './helpers/scratch.js';

/** The angle between two cameras' orientations (degrees). */
function angleDeg(a: Camera, b: Camera): number {
  let tr = 0;
  for (let i = 0; i < 9; i++) tr += a.R[i]! * b.R[i]!;
  return (Math.acos(Math.min(1, (tr - 1) / 2)) * 180) / Math.PI;
}

/**
 * Points in the square rig's airspace, each seen by the true cameras (pixel noise `sigma`) and
 * projected by the believed ones: the views the stage would fit; a share `wrong` of them are
 * some other detection up to 24 px away, as a crowd gives.
 */
function views(truth: readonly Camera[], believed: readonly Camera[], rng: Rng, sigma: number, wrong = 0): TurnView[] {
  const p: Vec3 = [rng.uniform(-150, 150), rng.uniform(-150, 150), rng.uniform(60, 200)];
  const out: TurnView[] = [];
  for (const [c, cam] of believed.entries()) {
    const seen = truth[c]!.project(p);
    const fit = cam.projectWithTurnJacobian(p);
    if (!seen || !fit || !cam.inImage(seen[0], seen[1])) continue;
    const [ou, ov] = rng.uniform(0, 1) < wrong ? [rng.uniform(-17, 17), rng.uniform(-17, 17)] : [0, 0];
    out.push({ camera: c, du: seen[0] + ou + sigma * rng.normal() - fit.u, dv: seen[1] + ov + sigma * rng.normal() - fit.v, Jp: fit.J, Jt: fit.Jt, variance: sigma ** 2 });
  }
  return out;
}

describe('turn calibration', () => {
  it('the projection\'s Jacobian by a turn of the camera is the turned camera\'s projection, distortion included', () => {
    const cam = Camera.at([10, -20, 3], lookAt([10, -20, 3], [0, 0, 100]), { width: 1920, height: 1080, K: intrinsicsFromFov(1920, 1080, 60), dist: [-0.1, 0.02, 0.001, -0.0005, 0] });
    const p: Vec3 = [-30, 40, 90];
    const { u, v, Jt } = cam.projectWithTurnJacobian(p)!;
    const h = 1e-6;
    for (let a = 0; a < 3; a++) {
      const w: [number, number, number] = [0, 0, 0];
      w[a] = h;
      const [u1, v1] = cam.turned(w).project(p)!;
      assert.ok(Math.abs((u1 - u) / h - Jt[a]!) < 1e-3 * Math.abs(Jt[a]!) + 1e-2, `∂u/∂ω${a}: ${(u1 - u) / h} vs ${Jt[a]}`);
      assert.ok(Math.abs((v1 - v) / h - Jt[3 + a]!) < 1e-3 * Math.abs(Jt[3 + a]!) + 1e-2, `∂v/∂ω${a}: ${(v1 - v) / h} vs ${Jt[3 + a]}`);
    }
    assert.deepEqual(cam.turned([0, 0, 0]).center.map((x) => +x.toFixed(9)), cam.center.map((x) => +x.toFixed(9)), 'a turn keeps the centre');
  });

  it('finds four cameras\' turns of 0.1° from their views of points to within a hundredth of a degree, and again when one moves; noise and a fifth of wrong matches turn none', () => {
    const s = squareRig(0.1);
    const truth = trueRigOf(s).map((c) => c.model);
    let believed = rigOf(s).map((c) => c.model);
    const before = believed.map((c, i) => angleDeg(c, truth[i]!));
    assert.ok(Math.min(...before) > 0.03, `the rig is off: ${before}`);
    const cal = new TurnCalibration(believed.map((c) => c.fx));
    const rng = new Rng(7);
    let applied = 0;
    for (let i = 0; i < 2000; i++) {
      const turns = cal.addPoint(views(truth, believed, rng, 0.2));
      if (!turns) continue;
      applied++;
      believed = believed.map((c, k) => (turns[k] ? c.turned(turns[k]) : c));
    }
    const after = believed.map((c, i) => angleDeg(c, truth[i]!));
    assert.ok(applied >= 1, 'turned');
    assert.ok(Math.max(...after) < 0.01, `after: ${after.map((x) => x.toFixed(4))} (before ${before.map((x) => x.toFixed(3))})`);
    // A camera that moves later (a mast in the sun): found again.
    const moved = truth.map((c, i) => (i === 2 ? c.turned([0.001, -0.0005, 0]) : c));
    for (let i = 0; i < 1000; i++) {
      const turns = cal.addPoint(views(moved, believed, rng, 0.2));
      if (turns) believed = believed.map((c, k) => (turns[k] ? c.turned(turns[k]) : c));
    }
    const again = believed.map((c, i) => angleDeg(c, moved[i]!));
    assert.ok(Math.max(...again) < 0.01, `after camera 2 moved 0.064°: ${again.map((x) => x.toFixed(4))}`);

    const exact = rigOf(s).map((c) => c.model);
    const still = new TurnCalibration(exact.map((c) => c.fx));
    for (let i = 0; i < 4000; i++) assert.equal(still.addPoint(views(exact, exact, rng, 0.2, i < 2000 ? 0 : 0.2)), undefined, `a calibrated rig was turned at point ${i}`);
    assert.deepEqual(still.changes(), []);
  });

  it('a stage restores a learnt turn only onto the calibration it was learnt against', () => {
    const s = squareRig(0.1);
    const stage = new VoxelStage(s, {});
    const written = rigOf(s).map((c) => c.model);
    const turn: Vec3 = [0.001, -0.0005, 0.0002];
    const restored = stage.restoreTurns([
      { pair: 'a', calibration: written[0]!.calibrationId(), turn_rad: turn },
      { pair: 'b', calibration: written[0]!.calibrationId(), turn_rad: turn },
      { pair: 'zz', calibration: written[0]!.calibrationId(), turn_rad: turn },
    ]);
    assert.deepEqual(restored, ['a']);
    assert.deepEqual(stage.learnedTurns().map((l) => [l.pair, l.calibration, l.turn_rad]), [['a', written[0]!.calibrationId(), turn]]);
    assert.deepEqual(new VoxelStage(s, { learn_turn: false }).restoreTurns([{ pair: 'a', calibration: written[0]!.calibrationId(), turn_rad: turn }]), [], 'learn_turn off: the calibration as written stands');
  });

  it('a setting that is not true or false is named', () => {
    assert.throws(() => checkVoxelStageOptions({ learn_turn: 'yes' }), /voxel\.learn_turn: expected true or false, got "yes"/);
  });

  it('a rig 0.1° off its calibration: the stage turns its cameras back and the 3D bias goes; a calibrated rig\'s tracks are untouched', async function () {
    this.timeout(90_000);
    const off = squareRig(0.1);
    const late = (e: { t: number; m: number }[]) => {
      const last = e.filter((x) => x.t > 3 && x.m < 5).map((x) => x.m);
      return last.reduce((a, b) => a + b, 0) / last.length;
    };
    const learned = await runOffline(off, {});
    const fixed = await runOffline(off, { learn_turn: false });
    assert.ok(late(learned.errors) < 0.5 * late(fixed.errors), `mean error from 3 s: ${late(learned.errors)} m turned, ${late(fixed.errors)} m not`);
    const share4 = (v: number[]) => v.filter((x) => x === 4).length / v.length;
    assert.ok(share4(learned.views) > 0.8, `learned: ${share4(learned.views)} of points with 4 views`);
    const exact = squareRig(0);
    assert.equal((await runOffline(exact, {})).tracks, (await runOffline(exact, { learn_turn: false })).tracks, 'a calibrated rig: the same tracks, byte for byte');
  });
});

describe('learnt turns across a voxel restart', function () {
  this.timeout(90_000);
  let dir = '';
  scratchDir('turns', (d) => (dir = d));

  it('a crashed voxel actor\'s successor points the cameras as it had learnt (KV `<prefix>_state`); another run starts from the calibration as written', async () => {
    const site = await startTestNats();
    try {
      const s = squareRig(0.1);
      const file = join(dir, 'square.yaml');
      writeFileSync(file, stringify({ ...JSON.parse(JSON.stringify(s)), duration_s: 8 }));
      const common = ['--nats', site.server.url, '--data-dir', site.dataDir, '--name', 'n1', '--scenario', file, '--allow-fault-injection'];
      const run = skyvox(['up', ...common], { env: { SKYVOX_LOG_LEVEL: 'info' } });
      const nc = await site.connect('admin');
      const kv = await ensureKv(nc, 'skyvox_state');
      type Learned = ReturnType<typeof validate<typeof LearnedTurns.schema>>;
      let learned: Learned | undefined;
      await waitFor(async () => {
        const e = await kv.get('voxel').catch(() => null);
        learned = e && e.operation === 'PUT' && e.length > 0 ? validate(LearnedTurns, decode(e.value)) : undefined;
        return (learned?.pairs.length ?? 0) === 4;
      }, 'every camera\'s turn written', 40_000);
      // What was written is the rig's true pointing, against this rig's calibration as written.
      const written = rigOf(s).map((c) => c.model);
      const truth = trueRigOf(s).map((c) => c.model);
      for (const p of learned!.pairs) {
        const c = ['a', 'b', 'c', 'd'].indexOf(p.pair);
        assert.equal(p.calibration, written[c]!.calibrationId());
        assert.ok(angleDeg(written[c]!.turned(p.turn_rad), truth[c]!) < 0.03, `${p.pair}: ${angleDeg(written[c]!.turned(p.turn_rad), truth[c]!)}° off after the turn, ${angleDeg(written[c]!, truth[c]!)}° before`);
      }
      const reply = await new Bus(nc, { receiver: 'test' }).request(CtlRequest, CtlReply, 'skyvox.ctl.n1', { cmd: 'crash', actor: 'voxel' });
      assert.equal(reply.ok, true, JSON.stringify(reply));
      await waitFor(() => /learnt turns restored/.test(run.stderr()), 'the restart to restore the turns', 20_000);
      const line = run.stderr().split('\n').find((l) => /learnt turns restored/.test(l))!;
      assert.deepEqual((JSON.parse(line) as { pairs: string[] }).pairs.sort(), ['a', 'b', 'c', 'd']);
      assert.equal((await run.exited).code, 0, run.stderr());
      // A new run (its own session) on the same store starts from the calibration as written.
      const next = skyvox(['up', ...common, '--duration', '2'], { env: { SKYVOX_LOG_LEVEL: 'info' } });
      assert.equal((await next.exited).code, 0, next.stderr());
      assert.doesNotMatch(next.stderr(), /learnt turns restored/);
    } finally {
      await site.dispose();
    }
  });
});
