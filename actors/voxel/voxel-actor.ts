/**
 * The voxel actor: gathers every pair's fused detections of one instant (framesets) and turns
 * them into 3D measurements on `skyvox.meas` with the voxel stage (voxel-stage.ts), aided by
 * the tracks on `skyvox.tracks`. As shard k (option `shard`) it publishes its slab's part on
 * `skyvox.meas.shard.<k>`, so the coordinator can watch each shard's output.
 */
import { FramesetAssembler, type Frameset } from '../../frames/frameset.js';
import { FusedFrame } from '../../schemas/fused.js';
import { Tracks } from '../../schemas/tracks.js';
import { Measurements } from '../../schemas/measurement.js';
import type { MessageOf } from '../../schemas/message.js';
import type { ActorBehavior, ActorContext } from '../../supervisors/actor.js';
import { nowNs, type TimerHandle } from '../../supervisors/clock.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';
import { loadScenario } from '../../sim/scenario.js';
import { type Fused, VoxelStage, type VoxelStageOptions } from './voxel-stage.js';

type Input = { kind: 'fused'; fused: Fused } | { kind: 'tracks'; tracks: MessageOf<typeof Tracks> };

/**
 * Factory for the `voxel` actor kind: options `{scenario, tolerance_ms?, max_wait_ms?}` plus
 * the stage's (VoxelStageOptions: min_score, voxel, association, track_aided, process_noise,
 * max_track_age_s, duplicate_m, max_speed_mps).
 */
export function voxelActor(f: ActorFactoryContext): ActorBehavior<Input> {
  const o = f.options as Record<string, unknown>;
  if (typeof o.scenario !== 'string') throw new TypeError(`options.scenario: expected a scenario name or file (the rig), got ${JSON.stringify(o.scenario)}`);
  const scenario = loadScenario(o.scenario);
  let stage: VoxelStage;
  let sets: FramesetAssembler<Fused>;
  let timer: TimerHandle | undefined;
  let busy: Promise<void> = Promise.resolve();

  const process = async (ctx: ActorContext<Input>, set: Frameset<Fused>) => {
    const { meas, info } = await stage.process(set);
    ctx.log.debug({ age_ms: Number(nowNs() - set.t_ns) / 1e6, ...info }, 'frameset');
    const s = ctx.bus!.subjects;
    ctx.publish(Measurements, meas.shard ? s.measShard(meas.shard.index) : s.meas, meas);
  };
  // One frameset in flight at a time; while it runs only the newest waiting one is kept, the
  // older ones are dropped and counted: measurements stay current instead of queueing up.
  let inFlight = false;
  let waiting: Frameset<Fused> | undefined;
  const run = (ctx: ActorContext<Input>, set: Frameset<Fused>) => {
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
  const emit = (ctx: ActorContext<Input>, ready: Frameset<Fused>[]) => {
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
      stage = new VoxelStage(scenario, o as VoxelStageOptions);
      const pairs = stage.pairs;
      sets = new FramesetAssembler<Fused>({ cameras: pairs, toleranceNs: BigInt(Math.round(Number(o.tolerance_ms ?? 10) * 1e6)), maxWaitMs: Number(o.max_wait_ms ?? 80) });
      for (const pair of pairs) ctx.subscribe(FusedFrame, ctx.bus!.subjects.fused(pair), (fused) => ({ kind: 'fused', fused }));
      if (stage.trackAided) ctx.subscribe(Tracks, ctx.bus!.subjects.tracks, (tracks) => ({ kind: 'tracks', tracks }));
      const tick = () => {
        emit(ctx, sets.poll(ctx.clock.now()));
        timer = ctx.clock.setTimeout(tick, 20);
      };
      timer = ctx.clock.setTimeout(tick, 20);
      ctx.signal.addEventListener('abort', () => timer && ctx.clock.clearTimeout(timer), { once: true });
    },
    handle(m, ctx) {
      if (m.kind === 'tracks') return stage.setTracks(m.tracks);
      emit(ctx, sets.add(m.fused.pair, m.fused.t_ns, m.fused, ctx.clock.now()));
    },
    async stop() {
      await busy;
    },
  };
}
