/**
 * The fusion actor (one per camera pair): takes `skyvox.det.<mono>` and `skyvox.det.<thermal>`,
 * pairs frames of the same instant (framesets), and publishes `skyvox.fused.<pair>` — every
 * detection in mono pixels with a thermal-confirmation score (fuse.ts). A mono frame whose
 * thermal partner does not come in time goes out unconfirmed, not held back; thermal views wait
 * for their mono twin (pair-framesets.ts). Views lost on the way (late, or whose mono frame never
 * came) count as dropped. A pair with one camera passes its detections on as they come.
 */
import { Camera, type Distortion } from '../../geometry/camera.js';
import { pairMapping, type PairMapping } from '../../geometry/pair.js';
import type { Mat3, Vec3 } from '../../geometry/vec3.js';
import { type FramesetAssembler, type Frameset, newlySkewed, SKEW_WARNING } from '../../frames/frameset.js';
import { DetectionFrame } from '../../schemas/detections.js';
import { FusedFrame } from '../../schemas/fused.js';
import type { MessageOf } from '../../schemas/message.js';
import type { ActorBehavior, ActorContext } from '../../supervisors/actor.js';
import type { TimerHandle } from '../../supervisors/clock.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';
import { rigOf } from '../../sim/rig.js';
import { loadScenario } from '../../sim/scenario.js';
import { DEFAULT_FUSE_OPTIONS, fuse, type FuseOptions, passThrough } from './fuse.js';
import { pairFramesets, pairFramesetSettings } from './pair-framesets.js';

type Detections = MessageOf<typeof DetectionFrame>;

interface CalibrationEntry {
  K: number[][];
  dist?: number[];
  R: number[][];
  t: number[];
  resolution: [number, number];
}

function cameraFrom(c: CalibrationEntry, field: string): Camera {
  const ok = Array.isArray(c?.K) && Array.isArray(c?.R) && Array.isArray(c?.t) && Array.isArray(c?.resolution);
  if (!ok) throw new TypeError(`options.calibration.${field}: expected {K, R, t, resolution[, dist]} as OpenCV gives them`);
  return new Camera({ width: c.resolution[0], height: c.resolution[1], K: c.K.flat() as unknown as Mat3, dist: c.dist as unknown as Distortion | undefined, R: c.R.flat() as unknown as Mat3, t: c.t as unknown as Vec3 });
}

/**
 * Factory for the `fusion` actor kind: options `{pair, mono?, thermal?, scenario | calibration, …}`
 * — a pair with both cameras fuses them; a pair with one passes its detections on (fuse.ts).
 */
export function fusionActor(f: ActorFactoryContext): ActorBehavior<Detections> {
  const o = f.options as Record<string, unknown>;
  if (typeof o.pair !== 'string') throw new TypeError(`options.pair: expected a name, got ${JSON.stringify(o.pair)}`);
  for (const k of ['mono', 'thermal'] as const) if (o[k] !== undefined && typeof o[k] !== 'string') throw new TypeError(`options.${k}: expected a camera name, got ${JSON.stringify(o[k])}`);
  const [pair, mono, thermal] = [o.pair, o.mono as string | undefined, o.thermal as string | undefined];
  if (mono === undefined && thermal === undefined) throw new TypeError('options: expected a mono camera, a thermal camera or both');
  const fuseOptions: FuseOptions = { ...DEFAULT_FUSE_OPTIONS, ...((o.fuse ?? {}) as Partial<FuseOptions>) };
  if (mono === undefined || thermal === undefined) return singleCamera(pair, (mono ?? thermal)!, mono !== undefined ? 'mono' : 'thermal', fuseOptions);
  let mapping: PairMapping;
  if (typeof o.scenario === 'string') {
    const rig = rigOf(loadScenario(o.scenario));
    const [m, t] = [rig.find((c) => c.id === mono), rig.find((c) => c.id === thermal)];
    if (!m || !t) throw new TypeError(`options: cameras ${mono} and ${thermal} are not both in scenario ${o.scenario}`);
    mapping = pairMapping(m.model, t.model);
  } else {
    const cal = o.calibration as { mono: CalibrationEntry; thermal: CalibrationEntry } | undefined;
    if (!cal) throw new TypeError('options: expected scenario (a name or file) or calibration {mono, thermal}');
    mapping = pairMapping(cameraFrom(cal.mono, 'mono'), cameraFrom(cal.thermal, 'thermal'));
  }
  const grouping = pairFramesetSettings(o);
  let sets: FramesetAssembler<Detections>;
  const skewReported = new Set<string>();
  let timer: TimerHandle | undefined;
  const emit = (ctx: ActorContext<Detections>, ready: Frameset<Detections>[]) => {
    const lost = sets.takeLost();
    if (lost > 0) {
      if (ctx.stats.dropped === 0) ctx.log.warn({ late: sets.stats.late, unpaired: sets.stats.unpaired }, 'detection frames lost before fusion (counted as dropped)');
      ctx.stats.dropped += lost;
    }
    for (const c of newlySkewed(sets, skewReported)) ctx.log.warn({ ...c, against: mono, tolerance_ms: grouping.tolerance_ms }, SKEW_WARNING);
    for (const s of ready) {
      const m = s.views.get(mono);
      if (!m) continue; // a thermal frame alone: nothing to confirm in the mono image
      ctx.publish(FusedFrame, ctx.bus!.subjects.fused(pair), fuse(pair, m, s.views.get(thermal), mapping, fuseOptions));
    }
  };
  return {
    start(ctx) {
      sets = pairFramesets<Detections>(mono, thermal, grouping);
      ctx.subscribe(DetectionFrame, ctx.bus!.subjects.det(mono), (d) => d);
      ctx.subscribe(DetectionFrame, ctx.bus!.subjects.det(thermal), (d) => d);
      // Sets missing a view go out once they have waited long enough.
      const tick = () => {
        emit(ctx, sets.poll(ctx.clock.now()));
        timer = ctx.clock.setTimeout(tick, Math.max(5, grouping.max_wait_ms / 2));
      };
      timer = ctx.clock.setTimeout(tick, grouping.max_wait_ms);
      ctx.signal.addEventListener('abort', () => timer && ctx.clock.clearTimeout(timer), { once: true });
    },
    handle(d, ctx) {
      emit(ctx, sets.add(d.cam, d.t_ns, d, ctx.clock.now()));
    },
    stop(ctx) {
      emit(ctx, sets.flush());
    },
  };
}

/** A pair with one camera: each of its frames goes on at once, nothing to wait for. */
function singleCamera(pair: string, cam: string, band: 'mono' | 'thermal', o: FuseOptions): ActorBehavior<Detections> {
  return {
    start(ctx) {
      ctx.subscribe(DetectionFrame, ctx.bus!.subjects.det(cam), (d) => d);
    },
    handle(d, ctx) {
      ctx.publish(FusedFrame, ctx.bus!.subjects.fused(pair), passThrough(pair, d, band, o));
    },
  };
}
