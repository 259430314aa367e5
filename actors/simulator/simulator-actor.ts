/**
 * The simulator actor: plays a scenario in (scaled) real time. Each frame it publishes the
 * ground truth on `skyvox.sim.truth` and, in detection mode, each camera's detections on
 * `skyvox.det.<cam>` (in pixel mode the camera actors render the frames). It ends normally
 * after the last frame.
 */
import { DetectionFrame } from '../../schemas/detections.js';
import { SimTruth } from '../../schemas/truth.js';
import type { ActorBehavior } from '../../supervisors/actor.js';
import { nowNs, type TimerHandle } from '../../supervisors/clock.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';
import { loadScenario } from '../../sim/scenario.js';
import { DEFAULT_MAX_BLOBS, Simulator } from '../../sim/simulator.js';

export interface SimulatorOptions {
  /** A built-in scenario name or a YAML file. */
  scenario: string;
  /** Playback speed: 1 = real time, 2 = twice as fast. */
  speed?: number;
  max_blobs?: number;
  /** Site-clock time of scenario time zero, shared with the camera actors (default: now). */
  start_ns?: bigint;
  /**
   * Detection mode: stamp detections in site time, as motion actors do behind cameras whose
   * clocks the site synchronises (default true); false stamps each camera's own clock.
   */
  clock_sync?: boolean;
}

function options(raw: Record<string, unknown>): SimulatorOptions {
  if (typeof raw.scenario !== 'string') throw new TypeError(`options.scenario: expected a scenario name or file, got ${JSON.stringify(raw.scenario)}`);
  if (raw.clock_sync !== undefined && typeof raw.clock_sync !== 'boolean') throw new TypeError(`options.clock_sync: expected true or false, got ${JSON.stringify(raw.clock_sync)}`);
  const speed = raw.speed ?? 1;
  if (typeof speed !== 'number' || !(speed > 0)) throw new TypeError(`options.speed: expected a number > 0, got ${JSON.stringify(speed)}`);
  return {
    scenario: raw.scenario,
    speed,
    max_blobs: typeof raw.max_blobs === 'number' ? raw.max_blobs : DEFAULT_MAX_BLOBS,
    start_ns: raw.start_ns !== undefined ? BigInt(raw.start_ns as string) : undefined,
    clock_sync: raw.clock_sync ?? true,
  };
}

/** Factory for the `simulator` actor kind. */
export function simulatorActor(f: ActorFactoryContext): ActorBehavior<number> {
  const o = options(f.options);
  let sim: Simulator;
  let timer: TimerHandle | undefined;
  let periodMs = 0;
  let t0 = 0;
  return {
    start(ctx) {
      sim = new Simulator(loadScenario(o.scenario), o.start_ns ?? nowNs());
      periodMs = 1000 / sim.scenario.fps / o.speed!;
      t0 = Number(sim.startNs / 1_000_000n);
      const schedule = (k: number) => {
        if (k >= sim.frameCount) {
          ctx.log.info({ scenario: sim.scenario.name, frames: sim.frameCount }, 'scenario finished');
          ctx.exit();
          return;
        }
        // Anchored to the start, so lateness in one frame does not accumulate.
        timer = ctx.clock.setTimeout(() => {
          ctx.send(k);
          schedule(k + 1);
        }, Math.max(0, t0 + k * periodMs - ctx.clock.now()));
      };
      ctx.signal.addEventListener('abort', () => timer && ctx.clock.clearTimeout(timer), { once: true });
      ctx.log.info({ scenario: sim.scenario.name, mode: sim.scenario.mode, cameras: sim.cameras.length, objects: sim.objects.length, fps: sim.scenario.fps, starts_in_ms: t0 - ctx.clock.now() }, 'scenario loaded');
      schedule(0);
    },
    handle(k, ctx) {
      const s = ctx.bus!.subjects;
      ctx.publish(SimTruth, s.simTruth, sim.truth(k));
      if (sim.scenario.mode !== 'detections') return;
      // A camera takes a frame when it is due or not at all: a frame still to make when two
      // newer ones are due is dropped (and counted), as the camera actors' are, so a starved
      // simulator's detections keep to the wall clock instead of arriving seconds old — which
      // would charge its lag to the pipeline's latency and feed the tracker a stale sky.
      const lateMs = ctx.clock.now() - (t0 + k * periodMs);
      if (lateMs > 2 * periodMs) {
        if (ctx.stats.dropped === 0) ctx.log.warn({ frame: k, late_ms: Math.round(lateMs) }, 'simulator behind the wall clock: frames two periods late are dropped (counted), as a camera would');
        ctx.stats.dropped++;
        return;
      }
      for (const cam of sim.cameras) {
        const out = sim.detections(cam, k, o.max_blobs, o.clock_sync);
        if (out) ctx.publish(DetectionFrame, s.det(cam.id), out.frame);
      }
    },
  };
}
