/**
 * The voxel actor: gathers every pair's fused detections of one instant (framesets) and turns
 * them into 3D measurements on `skyvox.meas`. Detections that fit a known track (from
 * `skyvox.tracks`, predicted to the instant) are associated to it per camera and
 * triangulated; the rest cast rays from the pair's mono camera centre (weighted by their
 * confirmation score) into the sparse voxel grid, whose peaks — points seen by rays of at
 * least K pairs — say which leftover detections belong together, and are triangulated in turn.
 * Every point is a Gauss–Newton triangulation with its covariance from pixel noise and geometry.
 */
import { binToF32, binToF64, f64ToBin } from '../../bus/codec.js';
import type { Camera } from '../../geometry/camera.js';
import { FramesetAssembler, type Frameset } from '../../frames/frameset.js';
import { VoxelGrid } from '../../kernels/native.js';
import type { VoxelParams } from '../../kernels/voxel-params.js';
import { FUSED_STRIDE, FusedFrame } from '../../schemas/fused.js';
import { Tracks } from '../../schemas/tracks.js';
import type { Mat3, Vec3 } from '../../geometry/vec3.js';
import { associateAndTriangulate, type AssociationOptions, type Hypothesis, type PairDetections } from './associate.js';
import { Measurements } from '../../schemas/measurement.js';
import type { MessageOf } from '../../schemas/message.js';
import type { ActorBehavior, ActorContext } from '../../supervisors/actor.js';
import { nowNs, type TimerHandle } from '../../supervisors/clock.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';
import { rigOf } from '../../sim/rig.js';
import { loadScenario, type Scenario } from '../../sim/scenario.js';

type Fused = MessageOf<typeof FusedFrame>;
type Input = { kind: 'fused'; fused: Fused } | { kind: 'tracks'; tracks: MessageOf<typeof Tracks> };
/** A track as last published: position, velocity and their 6×6 covariance at `t_ns`. */
interface KnownTrack {
  position: Vec3;
  velocity: Vec3;
  P: Float64Array;
}

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

/** A track's position and covariance predicted `dt` seconds ahead (constant velocity, plus `q` m²/s³ of process noise). */
function predict(t: KnownTrack, dt: number, q: number): Hypothesis {
  const P = t.P;
  const c: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      c.push(P[i * 6 + j]! + dt * (P[i * 6 + 3 + j]! + P[(3 + i) * 6 + j]!) + dt * dt * P[(3 + i) * 6 + 3 + j]! + (i === j ? (q * Math.abs(dt) ** 3) / 3 : 0));
    }
  }
  return { position: [t.position[0] + dt * t.velocity[0], t.position[1] + dt * t.velocity[1], t.position[2] + dt * t.velocity[2]], covariance: c as unknown as Mat3 };
}

/**
 * Factory for the `voxel` actor kind: options `{scenario, min_score?, voxel?, association?,
 * track_aided?, process_noise?, max_track_age_s?, duplicate_m?, tolerance_ms?, max_wait_ms?}`.
 */
export function voxelActor(f: ActorFactoryContext): ActorBehavior<Input> {
  const o = f.options as Record<string, unknown>;
  if (typeof o.scenario !== 'string') throw new TypeError(`options.scenario: expected a scenario name or file (the rig), got ${JSON.stringify(o.scenario)}`);
  const scenario = loadScenario(o.scenario);
  const rig = rigOf(scenario);
  const monos = new Map<string, Camera>();
  for (const c of rig) if (c.band === 'mono') monos.set(c.pair, c.model);
  const pairs = [...monos.keys()];
  if (pairs.length > 64) throw new TypeError(`options.scenario: at most 64 pairs vote in one grid, got ${pairs.length}`);
  // Unconfirmed detections take part too, their lower score as weight.
  const minScore = Number(o.min_score ?? 0);
  const voxelOptions: Partial<VoxelParams> = { worldBox: scenarioBox(scenario, 100), lodRatio: 0.01, minVoxel: 2, maxVoxel: 16, memoryBudget: 128 * 1024 * 1024, ...((o.voxel ?? {}) as Partial<VoxelParams>) };
  const association = (o.association ?? {}) as Partial<AssociationOptions>;
  const trackAided = o.track_aided !== false;
  const processNoise = Number(o.process_noise ?? 20);
  const maxTrackAge = Number(o.max_track_age_s ?? 0.5);
  const duplicateM = Number(o.duplicate_m ?? 1);
  let grid: VoxelGrid;
  let sets: FramesetAssembler<Fused>;
  let timer: TimerHandle | undefined;
  let busy: Promise<void> = Promise.resolve();
  let known: { t_ns: bigint; tracks: KnownTrack[] } | undefined;

  const process = async (ctx: ActorContext<Input>, set: Frameset<Fused>) => {
    const dets: PairDetections[] = [];
    const pairIndex: number[] = [];
    for (const [pair, fused] of set.views) {
      const camera = monos.get(pair);
      if (!camera) continue;
      const blobs = binToF32(fused.blobs);
      const claimed = new Uint8Array(fused.count);
      for (let i = 0; i < fused.count; i++) if (blobs[i * FUSED_STRIDE + 9]! < minScore) claimed[i] = 1;
      dets.push({ camera, blobs, count: fused.count, claimed });
      pairIndex.push(pairs.indexOf(pair));
    }
    // 1. Detections that fit a known track.
    const hyps: Hypothesis[] = [];
    if (trackAided && known) {
      const dt = Number(set.t_ns - known.t_ns) / 1e9;
      if (Math.abs(dt) <= maxTrackAge) for (const t of known.tracks) hyps.push(predict(t, dt, processNoise));
    }
    const points = associateAndTriangulate(hyps, dets, association);
    // 2. What is left votes; the peaks say which leftovers belong together.
    const origins: number[] = [];
    const dirs: number[] = [];
    const weights: number[] = [];
    const cams: number[] = [];
    for (const [k, d] of dets.entries()) {
      for (let i = 0; i < d.count; i++) {
        if (d.claimed[i]) continue;
        const r = d.camera.ray(d.blobs[i * FUSED_STRIDE]!, d.blobs[i * FUSED_STRIDE + 1]!);
        origins.push(...d.camera.center);
        dirs.push(...r);
        weights.push(d.blobs[i * FUSED_STRIDE + 9]!);
        cams.push(pairIndex[k]!);
      }
    }
    const castStart = performance.now();
    const out = await grid.process({ origins: Float64Array.from(origins), dirs: Float64Array.from(dirs), weights: Float32Array.from(weights), cameras: Int32Array.from(cams) });
    ctx.log.debug({ age_ms: Number(nowNs() - set.t_ns) / 1e6, cast_ms: performance.now() - castStart, tracks: hyps.length, track_points: points.length, leftover_rays: weights.length, steps: out.steps, bricks: out.bricks, peaks: out.peaks.length }, 'frameset');
    const peaks: Hypothesis[] = out.peaks.map((p) => {
      // The peak is known to its voxel at best: half a voxel of spread on each axis at least.
      const floor = (grid.params.minVoxel * 2 ** p.level) ** 2 / 4;
      const c = p.covariance.slice();
      for (let a = 0; a < 3; a++) c[a * 4] = c[a * 4]! + floor;
      return { position: p.position, covariance: c as unknown as Mat3 };
    });
    // A peak point within duplicate_m of a track's point is the same object seen through the
    // views its track did not claim: one measurement per object.
    const tracked = points.length;
    for (const p of associateAndTriangulate(peaks, dets, association)) {
      let near = false;
      for (let i = 0; i < tracked && !near; i++) {
        const q = points[i]!.position;
        near = Math.hypot(p.position[0] - q[0], p.position[1] - q[1], p.position[2] - q[2]) < duplicateM;
      }
      if (!near) points.push(p);
    }
    const values = points.flatMap((p) => [...p.position, ...p.covariance, p.weight, p.views]);
    ctx.publish(Measurements, ctx.bus!.subjects.meas, { t_ns: set.t_ns, count: points.length, pairs: [...set.views.keys()], points: f64ToBin(values) });
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
      grid = new VoxelGrid(voxelOptions);
      grid.setCameras([...monos.values()].map((c) => c.center));
      sets = new FramesetAssembler<Fused>({ cameras: pairs, toleranceNs: BigInt(Math.round(Number(o.tolerance_ms ?? 10) * 1e6)), maxWaitMs: Number(o.max_wait_ms ?? 80) });
      for (const pair of pairs) ctx.subscribe(FusedFrame, ctx.bus!.subjects.fused(pair), (fused) => ({ kind: 'fused', fused }));
      if (trackAided) ctx.subscribe(Tracks, ctx.bus!.subjects.tracks, (tracks) => ({ kind: 'tracks', tracks }));
      const tick = () => {
        emit(ctx, sets.poll(ctx.clock.now()));
        timer = ctx.clock.setTimeout(tick, 20);
      };
      timer = ctx.clock.setTimeout(tick, 20);
      ctx.signal.addEventListener('abort', () => timer && ctx.clock.clearTimeout(timer), { once: true });
    },
    handle(m, ctx) {
      if (m.kind === 'tracks') {
        if (known && m.tracks.t_ns < known.t_ns) return;
        const tracks = m.tracks.tracks.map((t) => ({ position: t.position, velocity: t.velocity, P: binToF64(t.covariance) }));
        known = { t_ns: m.tracks.t_ns, tracks: tracks.filter((t) => t.P.length === 36 && t.P.every(Number.isFinite)) };
        return;
      }
      emit(ctx, sets.add(m.fused.pair, m.fused.t_ns, m.fused, ctx.clock.now()));
    },
    async stop() {
      await busy;
    },
  };
}
