/**
 * The voxel actor: gathers every pair's fused detections of one instant (framesets), casts a
 * ray from each pair's mono camera centre through each detection (weighted by its
 * confirmation score) into the sparse voxel grid, and publishes the peaks — points seen by
 * rays of at least K pairs, refined by least squares with their covariance — on
 * `skyvox.meas`.
 */
import { f64ToBin, binToF32 } from '../../bus/codec.js';
import type { Camera } from '../../geometry/camera.js';
import { FramesetAssembler, type Frameset } from '../../frames/frameset.js';
import { VoxelGrid } from '../../kernels/native.js';
import type { VoxelParams } from '../../kernels/voxel-params.js';
import { FUSED_STRIDE, FusedFrame } from '../../schemas/fused.js';
import { Measurements } from '../../schemas/measurement.js';
import type { MessageOf } from '../../schemas/message.js';
import type { ActorBehavior, ActorContext } from '../../supervisors/actor.js';
import type { TimerHandle } from '../../supervisors/clock.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';
import { rigOf } from '../../sim/rig.js';
import { loadScenario, type Scenario } from '../../sim/scenario.js';

type Fused = MessageOf<typeof FusedFrame>;

/** The airspace a scenario's targets fly in, with a margin (ENU metres). */
function scenarioBox(s: Scenario, margin: number): [number, number, number, number, number, number] {
  const lo = [Infinity, Infinity, Infinity];
  const hi = [-Infinity, -Infinity, -Infinity];
  const take = (p: readonly number[]) => p.forEach((v, a) => ((lo[a] = Math.min(lo[a]!, v)), (hi[a] = Math.max(hi[a]!, v))));
  for (const t of s.targets) {
    if ('waypoints' in t) t.waypoints.forEach((w) => take(w.slice(1)));
    else t.box.forEach(take);
  }
  return [lo[0]! - margin, lo[1]! - margin, Math.max(0, lo[2]! - margin), hi[0]! + margin, hi[1]! + margin, hi[2]! + margin];
}

/** Factory for the `voxel` actor kind: options `{scenario, min_score?, voxel?, tolerance_ms?, max_wait_ms?}`. */
export function voxelActor(f: ActorFactoryContext): ActorBehavior<Fused> {
  const o = f.options as Record<string, unknown>;
  if (typeof o.scenario !== 'string') throw new TypeError(`options.scenario: expected a scenario name or file (the rig), got ${JSON.stringify(o.scenario)}`);
  const scenario = loadScenario(o.scenario);
  const rig = rigOf(scenario);
  const monos = new Map<string, Camera>();
  for (const c of rig) if (c.band === 'mono') monos.set(c.pair, c.model);
  const pairs = [...monos.keys()];
  if (pairs.length > 64) throw new TypeError(`options.scenario: at most 64 pairs vote in one grid, got ${pairs.length}`);
  // Unconfirmed detections vote too, with their lower score as weight.
  const minScore = Number(o.min_score ?? 0);
  const voxelOptions: Partial<VoxelParams> = { worldBox: scenarioBox(scenario, 100), lodRatio: 0.002, minVoxel: 0.25, maxVoxel: 4, ...((o.voxel ?? {}) as Partial<VoxelParams>) };
  let grid: VoxelGrid;
  let sets: FramesetAssembler<Fused>;
  let timer: TimerHandle | undefined;
  let busy: Promise<void> = Promise.resolve();

  const process = async (ctx: ActorContext<Fused>, set: Frameset<Fused>) => {
    const origins: number[] = [];
    const dirs: number[] = [];
    const weights: number[] = [];
    const cams: number[] = [];
    for (const [pair, fused] of set.views) {
      const cam = monos.get(pair);
      if (!cam) continue;
      const v = binToF32(fused.blobs);
      for (let i = 0; i < fused.count; i++) {
        const score = v[i * FUSED_STRIDE + 9]!;
        if (score < minScore) continue;
        const d = cam.ray(v[i * FUSED_STRIDE]!, v[i * FUSED_STRIDE + 1]!);
        origins.push(...cam.center);
        dirs.push(...d);
        weights.push(score);
        cams.push(pairs.indexOf(pair));
      }
    }
    const out = await grid.process({ origins: Float64Array.from(origins), dirs: Float64Array.from(dirs), weights: Float32Array.from(weights), cameras: Int32Array.from(cams) });
    const values = out.peaks.flatMap((p) => [...p.position, ...p.covariance, p.weight, p.cameras]);
    ctx.publish(Measurements, ctx.bus!.subjects.meas, { t_ns: set.t_ns, count: out.peaks.length, pairs: [...set.views.keys()], points: f64ToBin(values) });
  };
  // One frameset in the grid at a time; while it runs only the newest waiting one is kept, the
  // older ones are dropped and counted: measurements stay current instead of queueing up.
  let inFlight = false;
  let waiting: Frameset<Fused> | undefined;
  const run = (ctx: ActorContext<Fused>, set: Frameset<Fused>) => {
    inFlight = true;
    busy = process(ctx, set)
      .catch((err: Error) => ctx.fail(err))
      .finally(() => {
        inFlight = false;
        const next = waiting;
        waiting = undefined;
        if (next && !ctx.signal.aborted) run(ctx, next);
      });
  };
  const emit = (ctx: ActorContext<Fused>, ready: Frameset<Fused>[]) => {
    for (const s of ready) {
      if (!inFlight) run(ctx, s);
      else {
        if (waiting) ctx.stats.dropped++;
        waiting = s;
      }
    }
  };
  return {
    start(ctx) {
      grid = new VoxelGrid(voxelOptions);
      grid.setCameras([...monos.values()].map((c) => c.center));
      sets = new FramesetAssembler<Fused>({ cameras: pairs, toleranceNs: BigInt(Math.round(Number(o.tolerance_ms ?? 10) * 1e6)), maxWaitMs: Number(o.max_wait_ms ?? 80) });
      for (const pair of pairs) ctx.subscribe(FusedFrame, ctx.bus!.subjects.fused(pair), (d) => d);
      const tick = () => {
        emit(ctx, sets.poll(ctx.clock.now()));
        timer = ctx.clock.setTimeout(tick, 20);
      };
      timer = ctx.clock.setTimeout(tick, 20);
      ctx.signal.addEventListener('abort', () => timer && ctx.clock.clearTimeout(timer), { once: true });
    },
    handle(fused, ctx) {
      emit(ctx, sets.add(fused.pair, fused.t_ns, fused, ctx.clock.now()));
    },
    async stop() {
      await busy;
    },
  };
}
