/** The scene simulator: frame times, camera clocks, ground truth and detection-mode output. */
import type { Static } from '@sinclair/typebox';
import { f32ToBin } from '../bus/codec.js';
import type { DetectionFrame } from '../schemas/detections.js';
import type { SimTruth } from '../schemas/truth.js';
import { synthesizeDetections } from './detection-mode.js';
import { type RigCamera, trueRigOf } from './rig.js';
import { Rng } from './rng.js';
import type { Scenario } from './scenario.js';
import { ScenarioError } from './scenario.js';
import { type BandSensor, bandSensor } from './sensor.js';
import { type SceneObject, sceneObjects } from './trajectory.js';

export const DEFAULT_MAX_BLOBS = 4096;

/** A scenario made runnable. `startNs` anchors scenario time 0 on the site clock. */
export class Simulator {
  readonly scenario: Scenario;
  /** The cameras as they really stand (trueRigOf): what the simulator images through. */
  readonly cameras: readonly RigCamera[];
  readonly objects: readonly SceneObject[];
  readonly startNs: bigint;
  readonly frameCount: number;
  readonly #sensors: Map<string, BandSensor>;
  readonly #rngs: Map<string, Rng>;

  constructor(scenario: Scenario, startNs: bigint) {
    this.scenario = scenario;
    this.cameras = trueRigOf(scenario);
    this.objects = sceneObjects(scenario);
    const ids = new Set<string>();
    for (const o of this.objects) {
      if (ids.has(o.id)) throw new ScenarioError(`targets: expected unique object ids, got "${o.id}" twice (set id_prefix on swarms)`);
      ids.add(o.id);
    }
    this.startNs = startNs;
    this.frameCount = Math.floor(scenario.duration_s * scenario.fps);
    this.#sensors = new Map(this.cameras.map((c) => [c.id, bandSensor(scenario, c.band)]));
    this.#rngs = new Map(this.cameras.map((c) => [c.id, Rng.derive(scenario.seed, `camera/${c.id}`)]));
  }

  /** True (site-clock) time of frame `k`, in seconds of scenario time. */
  frameTime(k: number): number {
    return k / this.scenario.fps;
  }

  /** Site-clock nanoseconds of scenario time `t`. */
  siteNs(t: number): bigint {
    return this.startNs + BigInt(Math.round(t * 1e9));
  }

  /** The time camera `cam` stamps on an exposure whose true mid-point is `t`. */
  cameraNs(cam: RigCamera, t: number, rng: Rng): bigint {
    const c = cam.clock;
    const skewS = c.offsetMs / 1e3 + c.driftPpm * 1e-6 * t + (c.jitterUs * 1e-6) * rng.normal();
    return this.siteNs(t + skewS);
  }

  /**
   * The site time a synchronised camera's exposure at `t` carries: the offset and drift the
   * site's clock synchronisation removes (camera actors do it in pixel mode), the per-frame
   * jitter it cannot. The same random draw as cameraNs.
   */
  syncedNs(cam: RigCamera, t: number, rng: Rng): bigint {
    return this.siteNs(t + cam.clock.jitterUs * 1e-6 * rng.normal());
  }

  /** Ground truth at frame `k`. */
  truth(k: number): Static<typeof SimTruth.schema> {
    const t = this.frameTime(k);
    return {
      t_ns: this.siteNs(t),
      frame: k,
      objects: this.objects.map((o) => ({
        id: o.id,
        kind: o.kind,
        clutter: o.clutter,
        size_m: o.sizeM,
        position: [...o.track.position(t)] as [number, number, number],
        velocity: [...o.track.velocity(t)] as [number, number, number],
      })),
    };
  }

  /**
   * Detection-mode output of camera `cam` at frame `k` (undefined when the frame is dropped),
   * stamped as a motion actor stamps it: in site time, from a camera whose clock the site
   * synchronises (`synced`, default, unless the scenario says `clock: {synced: false}` for the
   * camera) — or, unsynchronised, with the camera's own clock.
   * Frames must be asked for in order per camera: each camera has its own random stream.
   */
  detections(cam: RigCamera, k: number, maxBlobs = DEFAULT_MAX_BLOBS, synced = true): { frame: Static<typeof DetectionFrame.schema>; sources: (string | undefined)[] } | undefined {
    const rng = this.#rngs.get(cam.id)!;
    const t = this.frameTime(k);
    const t_ns = synced && cam.clock.synced ? this.syncedNs(cam, t, rng) : this.cameraNs(cam, t, rng);
    if (cam.dropRate > 0 && rng.next() < cam.dropRate) return undefined;
    const out = synthesizeDetections(cam, this.#sensors.get(cam.id)!, this.objects, t, rng, {
      maxBlobs,
      glintRateHz: this.scenario.clutter?.glints?.rate_hz ?? 0,
      fps: this.scenario.fps,
    });
    return {
      frame: { t_ns, cam: cam.id, seq: k, width: cam.model.width, height: cam.model.height, count: out.count, overflow: out.overflow, blobs: f32ToBin(out.blobs) },
      sources: out.sources,
    };
  }
}
