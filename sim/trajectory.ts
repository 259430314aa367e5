/** Target motion: explicit waypoint tracks and generated manoeuvring swarms, all seeded. */
import { lerp, type Vec3 } from '../geometry/vec3.js';
import type { ObjectKind } from '../schemas/kinds.js';
import { Rng } from './rng.js';
import type { ExplicitTarget, Scenario, SwarmSpec } from './scenario.js';

/** Position and velocity as functions of scenario time (seconds). */
export interface Track {
  position(t: number): Vec3;
  velocity(t: number): Vec3;
}

/** Linear between waypoints, held before the first and after the last. */
export class WaypointTrack implements Track {
  readonly #times: number[];
  readonly #points: Vec3[];
  constructor(waypoints: readonly (readonly [number, number, number, number])[]) {
    this.#times = waypoints.map((w) => w[0]);
    this.#points = waypoints.map((w) => [w[1], w[2], w[3]] as Vec3);
  }
  #segment(t: number): number {
    const ts = this.#times;
    let lo = 0;
    let hi = ts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ts[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
  position(t: number): Vec3 {
    const ts = this.#times;
    if (t <= ts[0]!) return this.#points[0]!;
    if (t >= ts[ts.length - 1]!) return this.#points[ts.length - 1]!;
    const i = this.#segment(t);
    return lerp(this.#points[i]!, this.#points[i + 1]!, (t - ts[i]!) / (ts[i + 1]! - ts[i]!));
  }
  velocity(t: number): Vec3 {
    const ts = this.#times;
    if (t < ts[0]! || t >= ts[ts.length - 1]!) return [0, 0, 0];
    const i = this.#segment(t);
    const dt = ts[i + 1]! - ts[i]!;
    const [a, b] = [this.#points[i]!, this.#points[i + 1]!];
    return [(b[0] - a[0]) / dt, (b[1] - a[1]) / dt, (b[2] - a[2]) / dt];
  }
}

/** A track sampled on a uniform time grid (generated motion), linear in between. */
export class SampledTrack implements Track {
  readonly #dt: number;
  readonly #xyz: Float64Array;
  readonly #n: number;
  constructor(dt: number, xyz: Float64Array) {
    this.#dt = dt;
    this.#xyz = xyz;
    this.#n = xyz.length / 3;
  }
  #at(i: number): Vec3 {
    const k = Math.min(Math.max(i, 0), this.#n - 1) * 3;
    return [this.#xyz[k]!, this.#xyz[k + 1]!, this.#xyz[k + 2]!];
  }
  position(t: number): Vec3 {
    const f = Math.max(0, t / this.#dt);
    const i = Math.floor(f);
    if (i >= this.#n - 1) return this.#at(this.#n - 1);
    return lerp(this.#at(i), this.#at(i + 1), f - i);
  }
  velocity(t: number): Vec3 {
    const i = Math.min(Math.floor(Math.max(0, t / this.#dt)), this.#n - 2);
    if (i < 0) return [0, 0, 0];
    const [a, b] = [this.#at(i), this.#at(i + 1)];
    return [(b[0] - a[0]) / this.#dt, (b[1] - a[1]) / this.#dt, (b[2] - a[2]) / this.#dt];
  }
}

export interface GeneratedMotion {
  box: readonly [readonly [number, number, number], readonly [number, number, number]];
  speed: readonly [number, number];
  turnRateDps: number;
  climbRateMps: number;
  intervalS: readonly [number, number];
  /** Acceleration the airframe can pull (m/s²): speed, turn and climb changes obey it. */
  accelMps2: number;
}

const GRID_DT = 0.05;

/** One axis of one integration substep; a box too small for the airframe's turns stops it at the wall rather than let it leave. */
function step(p: number[], v: number[], a: number, dv: number, h: number, lo: readonly number[], hi: readonly number[]): void {
  v[a] = v[a]! + dv;
  p[a] = p[a]! + v[a]! * h;
  if (p[a]! < lo[a]! || p[a]! > hi[a]!) {
    p[a] = Math.min(hi[a]!, Math.max(lo[a]!, p[a]!));
    v[a] = 0;
  }
}
/** Integration substeps per grid sample: velocity changes smoothly within a sample too. */
const SUBSTEPS = 5;

/**
 * Turns, climbs and speed changes drawn at random intervals and flown with bounded
 * acceleration: the velocity follows the commanded one at most `accelMps2` per second, and
 * near a wall of `box` the command turns back inside (a turn the airframe can make), so the
 * path has no jumps in velocity. Sampled every 50 ms over `durationS`.
 */
export function generateTrack(rng: Rng, m: GeneratedMotion, durationS: number): SampledTrack {
  const [lo, hi] = m.box;
  const n = Math.ceil(durationS / GRID_DT) + 2;
  const xyz = new Float64Array(n * 3);
  // Start far enough inside for a U-turn at top speed, where the box allows it.
  const vmax = m.speed[1];
  const inset = [0, 1, 2].map((a) => Math.min(a < 2 ? (2 * vmax * vmax) / m.accelMps2 + 0.5 * vmax : (m.climbRateMps ** 2) / m.accelMps2 + 1, 0.45 * (hi[a]! - lo[a]!)));
  const p: [number, number, number] = [rng.uniform(lo[0] + inset[0]!, hi[0] - inset[0]!), rng.uniform(lo[1] + inset[1]!, hi[1] - inset[1]!), rng.uniform(lo[2] + inset[2]!, hi[2] - inset[2]!)];
  let heading = rng.uniform(0, 2 * Math.PI);
  let speed = rng.uniform(m.speed[0], m.speed[1]);
  const v: [number, number, number] = [speed * Math.cos(heading), speed * Math.sin(heading), 0];
  let turn = 0;
  let climb = 0;
  let nextChange = 0;
  const h = GRID_DT / SUBSTEPS;
  const centre = [(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, (lo[2] + hi[2]) / 2];
  for (let i = 0; i < n; i++) {
    const t = i * GRID_DT;
    xyz.set(p, i * 3);
    if (t >= nextChange) {
      turn = ((m.turnRateDps * Math.PI) / 180) * rng.uniform(-1, 1);
      climb = m.climbRateMps * rng.uniform(-1, 1);
      speed = rng.uniform(m.speed[0], m.speed[1]);
      nextChange = t + rng.uniform(m.intervalS[0], m.intervalS[1]);
    }
    for (let k = 0; k < SUBSTEPS; k++) {
      // Flying out towards a wall closer than a U-turn needs: command the way back inside, and
      // let the acceleration limit below make it the tightest turn the airframe can fly.
      const radius = (speed * speed) / Math.max(1e-6, m.accelMps2);
      const margin = 2 * radius + 0.5 * speed;
      const nearWall = (p[0] < lo[0] + margin && v[0] < 0) || (p[0] > hi[0] - margin && v[0] > 0) || (p[1] < lo[1] + margin && v[1] < 0) || (p[1] > hi[1] - margin && v[1] > 0);
      if (nearWall) heading = Math.atan2(centre[1]! - p[1], centre[0]! - p[0]);
      else {
        // The turn rate an airframe at this speed can hold within its acceleration.
        const maxTurn = m.accelMps2 / Math.max(speed, 1e-6);
        heading += Math.max(-maxTurn, Math.min(maxTurn, turn)) * h;
      }
      const brake = (v[2] * v[2]) / (2 * m.accelMps2) + 1;
      if ((p[2] < lo[2] + brake && climb < 0) || (p[2] > hi[2] - brake && climb > 0)) climb = -climb;
      // Scalars, not small arrays: this loop runs for every object, substep and 50 ms of the scenario.
      const dvx = speed * Math.cos(heading) - v[0];
      const dvy = speed * Math.sin(heading) - v[1];
      const dvz = climb - v[2];
      const mag = Math.hypot(dvx, dvy, dvz);
      const f = mag > m.accelMps2 * h ? (m.accelMps2 * h) / mag : 1;
      step(p, v, 0, dvx * f, h, lo, hi);
      step(p, v, 1, dvy * f, h, lo, hi);
      step(p, v, 2, dvz * f, h, lo, hi);
    }
  }
  return new SampledTrack(GRID_DT, xyz);
}

/** Anything that flies in the scene: a target or a clutter bird. */
export interface SceneObject {
  id: string;
  kind: ObjectKind;
  sizeM: number;
  track: Track;
  /** True for clutter (birds from `clutter.birds`): real objects, but not what is tracked. */
  clutter: boolean;
}

function swarm(scenario: Scenario, spec: SwarmSpec, index: number): SceneObject[] {
  const prefix = spec.id_prefix ?? `${spec.kind}${index}-`;
  const man = spec.manoeuvres ?? {};
  const size = spec.size_m ?? (spec.kind === 'bird' ? [0.2, 0.5] : spec.kind === 'plane' ? [10, 30] : [0.3, 0.6]);
  return Array.from({ length: spec.count }, (_, k) => {
    const rng = Rng.derive(scenario.seed, `swarm${index}/${k}`);
    return {
      id: `${prefix}${k}`,
      kind: spec.kind,
      sizeM: rng.uniform(size[0], size[1]),
      clutter: false,
      track: generateTrack(
        rng,
        { box: spec.box, speed: spec.speed_mps, turnRateDps: man.turn_rate_dps ?? 0, climbRateMps: man.climb_rate_mps ?? 0, intervalS: man.interval_s ?? [2, 6], accelMps2: man.accel_mps2 ?? (spec.kind === 'plane' ? 3 : 5) },
        scenario.duration_s,
      ),
    };
  });
}

const scenes = new Map<string, readonly SceneObject[]>();
/** Scenes kept for reuse: a run builds its scene in the warm-up, the simulator and every simulated camera. */
const SCENES_KEPT = 4;

/** Every object of the scenario, targets first, then clutter birds (built once per scene and process: ring10's takes ≈ 150 ms). */
export function sceneObjects(scenario: Scenario): SceneObject[] {
  const key = JSON.stringify([scenario.seed, scenario.duration_s, scenario.targets, scenario.clutter?.birds ?? null]);
  let scene = scenes.get(key);
  if (!scene) {
    scene = buildScene(scenario);
    scenes.set(key, scene);
    if (scenes.size > SCENES_KEPT) scenes.delete(scenes.keys().next().value!);
  }
  return [...scene];
}

function buildScene(scenario: Scenario): SceneObject[] {
  const out: SceneObject[] = [];
  scenario.targets.forEach((t, i) => {
    if ('waypoints' in t) {
      const e = t as ExplicitTarget;
      out.push({ id: e.id, kind: e.kind, sizeM: e.size_m, track: new WaypointTrack(e.waypoints), clutter: false });
    } else out.push(...swarm(scenario, t, i));
  });
  const birds = scenario.clutter?.birds;
  for (let k = 0; k < (birds?.count ?? 0); k++) {
    const rng = Rng.derive(scenario.seed, `bird/${k}`);
    out.push({
      id: `bird-${k}`,
      kind: 'bird',
      sizeM: rng.uniform(0.2, 0.5),
      clutter: true,
      // Birds are erratic: sharp turns and climbs at short intervals.
      track: generateTrack(rng, { box: birds!.box, speed: birds!.speed_mps ?? [6, 14], turnRateDps: 90, climbRateMps: 3, intervalS: [0.5, 2], accelMps2: 15 }, scenario.duration_s),
    });
  }
  return out;
}
