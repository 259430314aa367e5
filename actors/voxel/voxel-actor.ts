/**
 * The voxel actor: gathers every pair's fused detections of one instant (framesets) and turns
 * them into 3D measurements on `skyvox.meas` with the voxel stage (voxel-stage.ts), aided by
 * the tracks on `skyvox.tracks`. As shard k (option `shard`) it publishes its slab's part on
 * `skyvox.meas.shard.<k>`, so the coordinator can watch each shard's output.
 */
import type { KV } from '@nats-io/kv';
import { decode, encode } from '../../bus/codec.js';
import { ensureKv, withJetStreamRetry } from '../../bus/jetstream.js';
import { FramesetAssembler, type Frameset, newlySkewed, SKEW_WARNING } from '../../frames/frameset.js';
import { FusedFrame } from '../../schemas/fused.js';
import { Tracks, tracksFence } from '../../schemas/tracks.js';
import { Measurements } from '../../schemas/measurement.js';
import { LearnedTurns } from '../../schemas/calibration.js';
import { type MessageOf, validate } from '../../schemas/message.js';
import type { ActorBehavior, ActorContext } from '../../supervisors/actor.js';
import { nowNs, type TimerHandle } from '../../supervisors/clock.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';
import { loadScenario } from '../../sim/scenario.js';
import { type Fused, VoxelStage, type VoxelStageOptions } from './voxel-stage.js';
import { voxelCheckpointSettings, voxelTimingSettings } from './voxel-settings.js';

type Input = { kind: 'fused'; fused: Fused } | { kind: 'tracks'; tracks: MessageOf<typeof Tracks> };

/**
 * Factory for the `voxel` actor kind: options `{scenario}`, the timing settings
 * (voxel-settings.ts: tolerance_ms, max_wait_ms, track_wait_ms, queue), the checkpoint's
 * (checkpoint_ms, session, replicas: how often the turns it learnt go to the `<prefix>_state`
 * KV bucket under its name, restored from on start, so an incarnation after a crash or a move
 * points the cameras as well as its predecessor had learnt to) and the stage's
 * (VoxelStageOptions: min_score, voxel, association, track_aided, process_noise,
 * max_track_age_s, duplicate_m, single_view, ghost_views, split_pairings, refute_snr,
 * max_speed_mps, shard).
 */
export function voxelActor(f: ActorFactoryContext): ActorBehavior<Input> {
  const o = f.options as Record<string, unknown>;
  if (typeof o.scenario !== 'string') throw new TypeError(`options.scenario: expected a scenario name or file (the rig), got ${JSON.stringify(o.scenario)}`);
  const scenario = loadScenario(o.scenario);
  let stage: VoxelStage;
  let sets: FramesetAssembler<Fused>;
  let timer: TimerHandle | undefined;
  let busy: Promise<void> = Promise.resolve();
  const timing = voxelTimingSettings(o);
  const keep = voxelCheckpointSettings(o);
  let state: KV | undefined;
  /** The stage's turn revision last written (or restored), when the last write started, the write in flight. */
  let savedRevision = 0;
  let lastSave = -Infinity;
  let saving: Promise<void> | undefined;
  let unwritten = 0;
  const { track_wait_ms: trackWaitMs, queue } = timing;
  const skewReported = new Set<string>();
  // The instant of the last frameset processed, the newest tracks message's, the frameset
  // waiting for the tracker's answer to an instant (woken when it comes), and the instant whose
  // answer last came too late (no more waits until the tracker has answered it).
  let previous: bigint | undefined;
  let answered: bigint | undefined;
  let answer: { t_ns: bigint; wake: () => void } | undefined;
  let missed: bigint | undefined;

  /**
   * Waits (at most track_wait_ms) for the tracker's answer to the previous instant: each
   * frameset is then associated with the tracks of the instant just before it however the run
   * is timed, as `skyvox process` does, and a replay at any speed gives the live run's
   * measurements. Once an answer misses its wait (a tracker down or far behind), none is waited
   * for until the tracker has answered that instant.
   */
  const trackerAnswer = async (ctx: ActorContext<Input>) => {
    if (!stage.trackAided || trackWaitMs === 0 || previous === undefined) return;
    if (answered !== undefined && answered >= previous) return;
    if (missed !== undefined && (answered === undefined || answered < missed)) return;
    const waitingFor = previous;
    const came = await new Promise<boolean>((resolve) => {
      const wake = (ok: boolean) => {
        ctx.clock.clearTimeout(deadline);
        answer = undefined;
        resolve(ok);
      };
      const deadline = ctx.clock.setTimeout(() => wake(false), trackWaitMs);
      answer = { t_ns: waitingFor, wake: () => wake(true) };
    });
    missed = came ? undefined : waitingFor;
  };

  /** Writes the stage's learnt turns when they changed (at most every checkpoint_ms unless `final`); one write at a time. */
  const save = async (ctx: ActorContext<Input>, final = false) => {
    const revision = stage.turnRevision;
    if (!state || saving || revision === savedRevision || (!final && performance.now() - lastSave < keep.checkpoint_ms)) return;
    // Fenced (its node paused past the lease): an incarnation placed since owns the entry.
    if (f.mayAct && !f.mayAct()) return;
    lastSave = performance.now();
    const record = validate(LearnedTurns, { t_ns: nowNs(), node: f.node, ...(keep.session === undefined ? {} : { session: keep.session }), pairs: stage.learnedTurns() });
    const kv = state;
    saving = kv
      .put(f.name, encode(record))
      .then(() => {
        savedRevision = revision;
        if (unwritten > 0) ctx.log.info({ unwritten }, 'voxel: learnt turns written again');
        unwritten = 0;
      })
      .catch((err: Error) => {
        if (unwritten++ === 0) ctx.log.warn({ err: err.message }, 'voxel: learnt turns not written (said once until they are)');
      })
      .finally(() => (saving = undefined));
    if (final) await saving;
  };

  /** The last incarnation's turns (this run's, by session), read from the bucket, for the next frameset to apply. */
  let restored: MessageOf<typeof LearnedTurns> | undefined;
  const readLearnt = async (ctx: ActorContext<Input>, kv: KV) => {
    const e = await withJetStreamRetry(() => kv.get(f.name));
    if (!e || e.operation !== 'PUT' || e.length === 0) return;
    try {
      const record = validate(LearnedTurns, decode(e.value));
      if (keep.session === undefined || record.session === keep.session) restored = record;
    } catch (err) {
      ctx.stats.invalid++;
      ctx.log.warn({ err: (err as Error).message }, 'voxel: learnt turns unreadable, starting from the calibration as written');
    }
  };
  /** Points the cameras as the last incarnation had learnt to — unless this one has learnt its own since it started. */
  const restore = (ctx: ActorContext<Input>, record: MessageOf<typeof LearnedTurns>) => {
    if (stage.turnRevision > 0) return;
    const pairs = stage.restoreTurns(record.pairs);
    savedRevision = stage.turnRevision;
    if (pairs.length > 0) ctx.log.info({ pairs, written_by: record.node, age_s: Number(nowNs() - record.t_ns) / 1e9 }, 'voxel: learnt turns restored: the cameras point as the last incarnation had learnt');
  };

  const process = async (ctx: ActorContext<Input>, set: Frameset<Fused>) => {
    await trackerAnswer(ctx);
    previous = set.t_ns;
    if (restored) {
      restore(ctx, restored);
      restored = undefined;
    }
    const { meas, info } = await stage.process(set);
    ctx.log.debug({ age_ms: Number(nowNs() - set.t_ns) / 1e6, ...info }, 'frameset');
    for (const c of stage.floorChanges()) ctx.log.info(c, 'a camera\'s views disagree with the others beyond their pixel noise: its detections\' variance floor learned (check its calibration and clock)');
    for (const c of stage.turnChanges()) ctx.log.info(c, 'a camera\'s pointing refined from its views: it stands turned off its calibration by turn_deg (turn_axes_deg: about its x, y and z axes; fix its calibration to start from there)');
    const s = ctx.bus!.subjects;
    ctx.publish(Measurements, meas.shard ? s.measShard(meas.shard.index) : s.meas, meas);
    void save(ctx);
  };
  // One frameset in flight at a time; while it runs at most `queue` (default 1) wait, the
  // oldest beyond that dropped and counted: measurements stay current instead of queueing up.
  let inFlight = false;
  const waiting: Frameset<Fused>[] = [];
  const run = (ctx: ActorContext<Input>, set: Frameset<Fused>) => {
    inFlight = true;
    busy = process(ctx, set)
      .catch((err: Error) => ctx.fail(err))
      .finally(() => {
        inFlight = false;
        const next = waiting.shift();
        if (next && !ctx.signal.aborted) run(ctx, next);
      });
  };
  const emit = (ctx: ActorContext<Input>, ready: Frameset<Fused>[]) => {
    const late = sets.takeLost();
    if (late > 0) {
      if (ctx.stats.dropped === 0) ctx.log.warn({ late: sets.stats.late }, 'fused views came after their instant went on (counted as dropped)');
      ctx.stats.dropped += late;
    }
    for (const c of newlySkewed(sets, skewReported)) ctx.log.warn({ ...c, against: 'the other pairs', tolerance_ms: timing.tolerance_ms }, SKEW_WARNING);
    for (const s of ready) {
      if (!inFlight) run(ctx, s);
      else {
        waiting.push(s);
        if (waiting.length > queue) {
          waiting.shift();
          ctx.stats.dropped++;
        }
      }
    }
  };
  return {
    async start(ctx) {
      stage = new VoxelStage(scenario, o as VoxelStageOptions);
      // Up once its memory is taken: a scenario's sources start when every stage is up, and
      // framesets that waited for the grid's pages would queue and be dropped.
      await stage.ready();
      if (keep.checkpoint_ms > 0 && stage.learnsTurns) {
        // Not waited for: measurements do not wait on JetStream (electing after a server died,
        // or absent), and what was learnt is only a head start. A put that hangs gives up after
        // two checkpoint periods, 1 s at least.
        void ensureKv(ctx.bus!.nc, ctx.bus!.subjects.kv.state, { history: 1, replicas: keep.replicas }, Math.max(1000, 2 * keep.checkpoint_ms))
          .then(async (kv) => {
            await readLearnt(ctx, kv);
            state = kv;
          })
          .catch((err: Error) => ctx.log.warn({ err: err.message }, 'voxel: no state bucket: learnt turns are neither restored nor kept'));
      }
      const pairs = stage.pairs;
      sets = new FramesetAssembler<Fused>({ cameras: pairs, toleranceNs: BigInt(Math.round(timing.tolerance_ms * 1e6)), maxWaitMs: timing.max_wait_ms });
      for (const pair of pairs) ctx.subscribe(FusedFrame, ctx.bus!.subjects.fused(pair), (fused) => ({ kind: 'fused', fused }));
      // Only the newest tracker incarnation's tracks aid the association: one moved away may
      // publish a little longer, and two sets of predictions would claim every view twice.
      const fresh = tracksFence();
      if (stage.trackAided) ctx.subscribe(Tracks, ctx.bus!.subjects.tracks, (tracks) => (fresh(tracks) ? { kind: 'tracks', tracks } : undefined));
      const tick = () => {
        emit(ctx, sets.poll(ctx.clock.now()));
        timer = ctx.clock.setTimeout(tick, 20);
      };
      timer = ctx.clock.setTimeout(tick, 20);
      ctx.signal.addEventListener('abort', () => timer && ctx.clock.clearTimeout(timer), { once: true });
    },
    handle(m, ctx) {
      if (m.kind === 'tracks') {
        stage.setTracks(m.tracks);
        if (answered === undefined || m.tracks.t_ns > answered) answered = m.tracks.t_ns;
        if (answer && answered >= answer.t_ns) answer.wake();
        return;
      }
      emit(ctx, sets.add(m.fused.pair, m.fused.t_ns, m.fused, ctx.clock.now()));
    },
    async stop(ctx) {
      await busy;
      await saving;
      await save(ctx, true);
    },
  };
}
