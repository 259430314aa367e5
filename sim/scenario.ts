/**
 * Scenario files (YAML): the rig, the targets, clutter, sensor noise and duration. Every field
 * is validated; an error names the path and what was expected:
 *   cameras[3].fov_deg: expected a number in (0, 180), got "wide"
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { checkMaskSize, detectionMaskFile } from '../kernels/detection-mask.js';
import { fileURLToPath } from 'node:url';
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { parse as parseYaml } from 'yaml';
import { OBJECT_KINDS } from '../schemas/kinds.js';
import { explain, oneOf } from '../schemas/message.js';

const num = (expected: string, o: Record<string, number> = {}) => Type.Number({ expected, ...o });
const positive = (what = 'a positive number') => num(what, { exclusiveMinimum: 0 });
const nonNegative = (what = 'a number ≥ 0') => num(what, { minimum: 0 });
const probability = () => num('a probability in [0, 1]', { minimum: 0, maximum: 1 });
const vec3 = (expected = '[x, y, z] in metres') => Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { expected });
const range = (expected: string, min = 0) =>
  Type.Tuple([Type.Number({ minimum: min, expected: `a number ≥ ${min}` }), Type.Number({ minimum: min, expected: `a number ≥ ${min}` })], { expected });
const row3 = () => Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { expected: 'a row of 3 numbers' });
const id = (what: string) => Type.String({ pattern: '^[A-Za-z0-9_-]+$', expected: `${what} of letters, digits, "_" or "-"` });
const strict = { additionalProperties: false } as const;

export const BANDS = ['mono', 'thermal'] as const;
export const MODES = ['pixel', 'detections'] as const;

const Clock = Type.Object(
  {
    offset_ms: Type.Optional(num('a number of milliseconds')),
    drift_ppm: Type.Optional(num('a number of parts per million', { minimum: -1000, maximum: 1000 })),
    jitter_us: Type.Optional(nonNegative('a number of microseconds ≥ 0')),
    synced: Type.Optional(Type.Boolean({ expected: 'true or false' })),
  },
  strict,
);

export const CameraSchema = Type.Object(
  {
    id: id('a camera id'),
    pair: id('a pair id'),
    band: oneOf(BANDS),
    resolution: Type.Tuple([Type.Integer({ minimum: 16, maximum: 16384, expected: 'an integer width in [16, 16384]' }), Type.Integer({ minimum: 16, maximum: 16384, expected: 'an integer height in [16, 16384]' })], {
      expected: '[width, height] in pixels',
    }),
    fov_deg: Type.Optional(num('a number in (0, 180)', { exclusiveMinimum: 0, exclusiveMaximum: 180 })),
    K: Type.Optional(
      Type.Tuple([row3(), row3(), row3()], { expected: 'a 3×3 matrix [[fx, s, cx], [0, fy, cy], [0, 0, 1]]' }),
    ),
    dist: Type.Optional(Type.Array(Type.Number(), { minItems: 5, maxItems: 5, expected: 'OpenCV distortion [k1, k2, p1, p2, k3]' })),
    position: vec3('[x, y, z] in metres (ENU)'),
    look_at: Type.Optional(vec3('[x, y, z] in metres (ENU)')),
    quaternion: Type.Optional(Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()], { expected: '[w, x, y, z]' })),
    ypr_deg: Type.Optional(Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { expected: '[yaw, pitch, roll] in degrees' })),
    roll_deg: Type.Optional(num('a number of degrees')),
    clock: Type.Optional(Clock),
    drop_rate: Type.Optional(probability()),
    calibration_error: Type.Optional(
      Type.Object(
        {
          rotation_deg: Type.Optional(num('an rms angle in degrees in [0, 10] per axis', { minimum: 0, maximum: 10 })),
          position_m: Type.Optional(nonNegative('an rms distance in metres ≥ 0 per axis')),
        },
        strict,
      ),
    ),
    mask: Type.Optional(Type.String({ minLength: 1, expected: "a PGM file (8-bit, the camera's resolution; a relative path is from the scenario file): non-zero where targets are looked for" })),
  },
  strict,
);

const Manoeuvres = Type.Object(
  {
    turn_rate_dps: Type.Optional(nonNegative('a turn rate in degrees per second ≥ 0')),
    climb_rate_mps: Type.Optional(nonNegative('a climb rate in m/s ≥ 0')),
    interval_s: Type.Optional(range('[min, max] seconds between manoeuvres', 0.1)),
    accel_mps2: Type.Optional(positive('an acceleration in m/s² > 0 (default 5 for drones and birds in a swarm, 3 for planes)')),
  },
  strict,
);

export const ExplicitTargetSchema = Type.Object(
  {
    id: id('a target id'),
    kind: oneOf(OBJECT_KINDS),
    size_m: positive('a size in metres > 0'),
    waypoints: Type.Array(Type.Tuple([Type.Number(), Type.Number(), Type.Number(), Type.Number()], { expected: '[t_s, x, y, z]' }), {
      minItems: 1,
      expected: 'a list of [t_s, x, y, z] waypoints',
    }),
  },
  strict,
);

export const SwarmSchema = Type.Object(
  {
    generate: Type.Literal('swarm', { expected: '"swarm"' }),
    id_prefix: Type.Optional(id('an id prefix')),
    count: Type.Integer({ minimum: 1, maximum: 100000, expected: 'an integer count in [1, 100000]' }),
    kind: oneOf(OBJECT_KINDS),
    size_m: Type.Optional(range('[min, max] size in metres', 0.01)),
    box: Type.Tuple([vec3('[xmin, ymin, zmin]'), vec3('[xmax, ymax, zmax]')], { expected: '[[xmin, ymin, zmin], [xmax, ymax, zmax]]' }),
    speed_mps: range('[min, max] speed in m/s'),
    manoeuvres: Type.Optional(Manoeuvres),
  },
  strict,
);

const Clutter = Type.Object(
  {
    birds: Type.Optional(Type.Object({ count: Type.Integer({ minimum: 0, expected: 'an integer ≥ 0' }), box: SwarmSchema.properties.box, speed_mps: Type.Optional(range('[min, max] speed in m/s')) }, strict)),
    clouds: Type.Optional(
      Type.Object({ count: Type.Integer({ minimum: 0, expected: 'an integer ≥ 0' }), contrast: Type.Optional(probability()), speed_px_s: Type.Optional(nonNegative()) }, strict),
    ),
    hot_pixels: Type.Optional(Type.Integer({ minimum: 0, expected: 'an integer ≥ 0' })),
    dead_pixels: Type.Optional(Type.Integer({ minimum: 0, expected: 'an integer ≥ 0' })),
    glints: Type.Optional(Type.Object({ rate_hz: nonNegative('a rate in Hz ≥ 0 per camera') }, strict)),
  },
  strict,
);

const BandSensor = Type.Object(
  {
    read_noise_dn: Type.Optional(nonNegative('read noise in DN ≥ 0')),
    gain_e_per_dn: Type.Optional(positive('a gain in electrons per DN > 0')),
    psf_sigma_px: Type.Optional(num('a PSF sigma in pixels in [0.2, 10]', { minimum: 0.2, maximum: 10 })),
    bit_depth: Type.Optional(Type.Integer({ minimum: 8, maximum: 16, expected: 'an integer bit depth in [8, 16]' })),
    sky_dn: Type.Optional(nonNegative('a sky level in DN ≥ 0')),
    threshold_sigma: Type.Optional(positive('a detection threshold in noise sigmas > 0')),
  },
  strict,
);

export const ScenarioSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, expected: 'a non-empty name' }),
    description: Type.Optional(Type.String()),
    seed: Type.Integer({ minimum: 0, expected: 'an integer seed ≥ 0' }),
    duration_s: positive('a duration in seconds > 0'),
    fps: num('a frame rate in (0, 1000]', { exclusiveMinimum: 0, maximum: 1000 }),
    mode: oneOf(MODES),
    site: Type.Object({ lat: num('a latitude in [-90, 90]', { minimum: -90, maximum: 90 }), lon: num('a longitude in [-180, 180]', { minimum: -180, maximum: 180 }), alt: Type.Number({ expected: 'an altitude in metres' }) }, strict),
    cameras: Type.Array(CameraSchema, { minItems: 1, expected: 'a list of at least one camera' }),
    targets: Type.Array(Type.Union([ExplicitTargetSchema, SwarmSchema], { expected: 'a target {id, kind, size_m, waypoints} or a generator {generate: swarm, …}' }), { expected: 'a list of targets' }),
    clutter: Type.Optional(Clutter),
    sensor: Type.Optional(Type.Object({ mono: Type.Optional(BandSensor), thermal: Type.Optional(BandSensor) }, strict)),
  },
  strict,
);

export type Scenario = Static<typeof ScenarioSchema>;
export type CameraSpec = Static<typeof CameraSchema>;
export type ExplicitTarget = Static<typeof ExplicitTargetSchema>;
export type SwarmSpec = Static<typeof SwarmSchema>;

const check = TypeCompiler.Compile(ScenarioSchema);
const explicitCheck = TypeCompiler.Compile(ExplicitTargetSchema);
const swarmCheck = TypeCompiler.Compile(SwarmSchema);

/** A scenario that cannot be used; the message names the path and the expectation. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
}

/** Validates a parsed scenario object; `source` prefixes messages (a file name). */
export function parseScenario(raw: unknown, source = 'scenario'): Scenario {
  const fail = (msg: string): never => {
    throw new ScenarioError(`${source}: ${msg}`);
  };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail('expected a mapping with name, seed, duration_s, fps, mode, site, cameras, targets');
  if (!check.Check(raw)) {
    // A union error says little; point into the branch the entry was meant to be.
    const targets = (raw as { targets?: unknown }).targets;
    if (Array.isArray(targets)) {
      targets.forEach((t, i) => {
        const isSwarm = t !== null && typeof t === 'object' && 'generate' in t;
        const c = isSwarm ? swarmCheck : explicitCheck;
        if (!c.Check(t)) {
          const msg = explain(c, t);
          fail(msg.startsWith('(root)') ? msg.replace('(root)', `targets[${i}]`) : `targets[${i}].${msg}`);
        }
      });
    }
    fail(explain(check, raw));
  }
  const s = raw as Scenario;
  s.cameras.forEach((c, i) => {
    const intr = [c.fov_deg !== undefined && 'fov_deg', c.K !== undefined && 'K'].filter(Boolean);
    if (intr.length !== 1) fail(`cameras[${i}]: expected exactly one of fov_deg or K, got ${intr.length ? intr.join(' and ') : 'neither'}`);
    const orient = [c.look_at && 'look_at', c.quaternion && 'quaternion', c.ypr_deg && 'ypr_deg'].filter(Boolean);
    if (orient.length !== 1) fail(`cameras[${i}]: expected exactly one of look_at, quaternion or ypr_deg, got ${orient.length ? orient.join(' and ') : 'none'}`);
    if (c.K && (c.K[2][0] !== 0 || c.K[2][1] !== 0 || c.K[2][2] !== 1 || c.K[1][0] !== 0)) fail(`cameras[${i}].K: expected [[fx, s, cx], [0, fy, cy], [0, 0, 1]], got ${JSON.stringify(c.K)}`);
    if (c.K && !(c.K[0][0] > 0 && c.K[1][1] > 0)) fail(`cameras[${i}].K: expected positive focal lengths fx and fy, got ${c.K[0][0]} and ${c.K[1][1]}`);
    if (c.look_at && c.look_at.every((v, k) => v === c.position[k])) fail(`cameras[${i}].look_at: expected a point other than the camera position, got ${JSON.stringify(c.look_at)}`);
    if (c.quaternion && Math.hypot(...c.quaternion) === 0) fail(`cameras[${i}].quaternion: expected a non-zero quaternion, got [0, 0, 0, 0]`);
  });
  const ids = new Set<string>();
  s.cameras.forEach((c, i) => {
    if (ids.has(c.id)) fail(`cameras[${i}].id: expected a unique camera id, got "${c.id}" twice`);
    ids.add(c.id);
  });
  const pairs = new Map<string, string[]>();
  for (const c of s.cameras) pairs.set(c.pair, [...(pairs.get(c.pair) ?? []), c.band]);
  for (const [pair, bands] of pairs) {
    if (bands.filter((b) => b === 'mono').length > 1 || bands.filter((b) => b === 'thermal').length > 1) fail(`cameras: expected at most one mono and one thermal camera in pair "${pair}", got ${bands.join(', ')}`);
  }
  const targetIds = new Set<string>();
  s.targets.forEach((t, i) => {
    if ('waypoints' in t) {
      if (targetIds.has(t.id)) fail(`targets[${i}].id: expected a unique target id, got "${t.id}" twice`);
      targetIds.add(t.id);
      t.waypoints.forEach((w, k) => {
        if (k > 0 && !(w[0] > t.waypoints[k - 1]![0])) fail(`targets[${i}].waypoints[${k}]: expected times to increase, got ${w[0]} after ${t.waypoints[k - 1]![0]}`);
      });
    } else {
      t.box[0].forEach((v, k) => v > t.box[1][k]! && fail(`targets[${i}].box: expected min ≤ max on every axis, got ${JSON.stringify(t.box)}`));
      if (t.speed_mps[0] > t.speed_mps[1]) fail(`targets[${i}].speed_mps: expected [min, max] with min ≤ max, got ${JSON.stringify(t.speed_mps)}`);
    }
  });
  return Value.Clone(s);
}

/** Where the built-in scenarios live. */
export const BUILTIN_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../sim/scenarios');

/** Names of the built-in scenarios. */
export function builtinScenarios(): string[] {
  return readdirSync(BUILTIN_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => basename(f, '.yaml'))
    .sort();
}

/** Loads a built-in scenario by name, or a YAML file by path. */
export function loadScenario(nameOrFile: string): Scenario {
  const file = builtinScenarios().includes(nameOrFile) ? join(BUILTIN_DIR, `${nameOrFile}.yaml`) : nameOrFile;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ScenarioError(`${nameOrFile}: expected a built-in scenario (${builtinScenarios().join(', ')}) or a readable YAML file`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ScenarioError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  const scenario = parseScenario(raw, file);
  // A mask named relative to its scenario file, wherever skyvox runs from.
  for (const [i, c] of scenario.cameras.entries()) {
    if (c.mask === undefined) continue;
    if (!isAbsolute(c.mask)) c.mask = resolve(dirname(file), c.mask);
    try {
      checkMaskSize(detectionMaskFile(c.mask), c.resolution[0], c.resolution[1]);
    } catch (err) {
      throw new ScenarioError(`${file}: cameras[${i}].mask: ${(err as Error).message}`);
    }
  }
  return scenario;
}
