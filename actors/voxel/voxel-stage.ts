/**
 * The voxel stage, free of the bus: one frameset of fused detections in, 3D measurements out.
 * Detections that fit a known track (predicted to the instant) are associated to it per camera
 * and triangulated; the rest cast rays from the pair's view camera centre (weighted by their
 * confirmation score) into the sparse voxel grid, whose peaks — points seen by rays of at
 * least K pairs — say which leftover detections belong together, and are triangulated in turn.
 * The voxel actor runs it live; batch processing runs it offline on the same inputs.
 */
import { binToF32, binToF64, f64ToBin } from '../../bus/codec.js';
import type { Camera } from '../../geometry/camera.js';
import type { Frameset } from '../../frames/frameset.js';
import { VoxelGrid } from '../../kernels/native.js';
import { voxelStageGrid } from './voxel-settings.js';
import type { VoxelParams } from '../../kernels/voxel-params.js';
import { FUSED_STRIDE, type FusedFrame } from '../../schemas/fused.js';
import type { Tracks } from '../../schemas/tracks.js';
import type { Mat3, Vec3 } from '../../geometry/vec3.js';
import { selectPeaks } from './select-peaks.js';
import { splitCrowdedPeaks } from './split-peaks.js';
import { refutingWitness, type Witness } from './refute.js';
import { ResidualFloor, VotedFloor } from './residual-floor.js';
import { triangulate, type View } from '../../geometry/triangulate.js';
import { TurnCalibration, type TurnView } from './turn-calibration.js';
import { type DetectionMask, detectionMaskFile } from '../../kernels/detection-mask.js';
import { type AssociatedPoint, associateAndTriangulate, type AssociationOptions, checkAssociationOptions, DEFAULT_ASSOCIATION, type Hypothesis, type PairDetections, type SingleView, detectionRay } from './associate.js';
import { type Measurements, RAY_STRIDE } from '../../schemas/measurement.js';
import type { MessageOf } from '../../schemas/message.js';
import { rigOf, rigPairs } from '../../sim/rig.js';
import { type Box, parseShardSpec, shardRegion, type ShardRegion, type ShardSpec } from './shard-region.js';
import type { Scenario } from '../../sim/scenario.js';
import { mapPacked } from '../../util/packed-array.js';

export type Fused = MessageOf<typeof FusedFrame>;
type Meas = MessageOf<typeof Measurements>;

/** A track as last published: position, velocity and their 6×6 covariance at `t_ns`. */
interface KnownTrack {
  position: Vec3;
  velocity: Vec3;
  P: Float64Array;
  /** Confirmed or coasting: one camera's detection of it still measures it (single_view). */
  established: boolean;
}

/** The voxel stage's settings (the voxel actor's options). */
export interface VoxelStageOptions {
  /** Detections scored below this take no part (default 0: unconfirmed ones vote with their lower score). */
  min_score?: number;
  voxel?: Partial<VoxelParams>;
  association?: Partial<AssociationOptions>;
  /** Associate detections to known tracks first (default true). */
  track_aided?: boolean;
  /** Process noise for predicting tracks to the instant (m²/s³, default 20). */
  process_noise?: number;
  /** Tracks older than this are not used (s, default 0.5). */
  max_track_age_s?: number;
  /** A voted point this close to a track's point is the same object (m, default 1). */
  duplicate_m?: number;
  /** A confirmed track that one camera alone sees at the instant is measured by that ray (default true; associate.ts detectionRay, geometry/ray-point.ts). */
  single_view?: boolean;
  /**
   * A voted point of fewer views than this is a ghost — two objects' rays crossing — when
   * another camera would see it at `refute_snr` or more and has nothing there (refute.ts).
   * Default 3; 0 keeps every point.
   */
  ghost_views?: number;
  /**
   * A peak whose gate holds more than one detection in some camera — objects closer than a
   * voxel or two — is split into the points its detections agree on, trying at most this many
   * two-camera pairings of them per peak (split-peaks.ts; default 256; 0 = never split).
   */
  split_pairings?: number;
  /** SNR at which a camera cannot miss a point (refute.ts; default 10). */
  refute_snr?: number;
  /** Without tracks, the last frameset's points guide the association, each moved up to this since (m/s, default 40). */
  max_speed_mps?: number;
  /**
   * Learn each camera's pixel error beyond its detections' own noise from its views' residuals
   * (calibration and timing error; residual-floor.ts) and add it to its detections' variances,
   * on top of `association.pixelVarFloor` — until a camera's is learnt, the rig's as its voted
   * points show it at a cold start (VotedFloor) — (default true).
   */
  learn_floor?: boolean;
  /**
   * Refine each camera's pointing from its views of tracked targets: the turn off its
   * calibration that its residuals show is undone (turn-calibration.ts; default true).
   */
  learn_turn?: boolean;
  /** One of several voxel shards: it owns a slab of the airspace (shard-region.ts; default: all of it). */
  shard?: { index: number; count: number; margin_m?: number };
}

/** The settings VoxelStageOptions has. */
const STAGE_SETTINGS = ['min_score', 'voxel', 'association', 'track_aided', 'process_noise', 'max_track_age_s', 'duplicate_m', 'single_view', 'ghost_views', 'split_pairings', 'refute_snr', 'max_speed_mps', 'learn_floor', 'learn_turn', 'shard'];

/**
 * Checks the voxel stage's settings, each error naming `voxel.<setting>`, what was expected and
 * what was found; with `others` (the names an actor or file may also hold there), a setting
 * that is neither the stage's nor one of those is an error too.
 */
export function checkVoxelStageOptions(o: Record<string, unknown>, others?: readonly string[]): void {
  const bad = (k: string, want: string) => new TypeError(`voxel.${k}: expected ${want}, got ${JSON.stringify(o[k])}`);
  const number = (k: string, ok: (v: number) => boolean, want: string) => {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || !ok(v))) throw bad(k, want);
  };
  number('min_score', () => true, 'a number');
  number('process_noise', (v) => v > 0, 'a number > 0 (m²/s³)');
  number('max_track_age_s', (v) => v > 0, 'a number of seconds > 0');
  number('duplicate_m', (v) => v >= 0, 'a number of metres ≥ 0');
  number('max_speed_mps', (v) => v >= 0, 'a number of m/s ≥ 0');
  number('refute_snr', (v) => v > 0, 'a number > 0');
  for (const k of ['ghost_views', 'split_pairings']) number(k, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  for (const k of ['track_aided', 'single_view', 'learn_floor', 'learn_turn']) if (o[k] !== undefined && typeof o[k] !== 'boolean') throw bad(k, 'true or false');
  checkAssociationOptions(o.association);
  if (o.voxel !== undefined) voxelStageGrid(o.voxel);
  parseShardSpec(o.shard);
  if (!others) return;
  for (const k of Object.keys(o)) if (!STAGE_SETTINGS.includes(k) && !others.includes(k)) throw new TypeError(`voxel.${k}: unknown setting (expected one of ${[...STAGE_SETTINGS, ...others].join(', ')})`);
}

/** What one frameset gave, besides the measurements: for the debug log. */
export interface VoxelStageInfo {
  cast_ms: number;
  tracks: number;
  track_points: number;
  leftover_rays: number;
  steps: number;
  bricks: number;
  /** Votes lost so far because the memory budget was full of bricks in use (kernel total). */
  lost: number;
  peaks: number;
  /** Voted points left out as ghosts (ghost_views). */
  ghosts: number;
}

/** The airspace a scenario's targets fly in, with a margin (ENU metres). */
function scenarioBox(s: Scenario, margin: number): Box {
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

/** Points of established tracks a frameset whose residuals teach the learned floors (learn_floor). */
const LEARN_POINTS = 16;
/** How far from a point's projection a camera's detection of it may lie for its residual to count (px): the largest error learned. */
const LEARN_RADIUS_PX = 8;

/**
 * How far from a point's projection a camera's detection of it may lie for the camera's turn to
 * learn from it (learn_turn): a camera turned off by more than the floor's radius is the one
 * that most needs turning back, and its views would never come within that. At most
 * TURN_RADIUS_PX, and at most TURN_RADIUS_RAD as an angle (at least LEARN_RADIUS_PX): a radius
 * wider than the turns it must take back only takes in more of a crowd's neighbours, and a
 * view with a neighbour inside the radius teaches nothing — `swarm4`'s cameras (2217 px) 0.05°
 * off starved the fit with 24 px (0.6°), less so with 19 px (0.5°).
 */
const TURN_RADIUS_PX = 24;
const TURN_RADIUS_RAD = (0.5 * Math.PI) / 180;

/** Unit pixel covariance: a voted point triangulated so its residuals are pixels. */
const UNIT_COV = [1, 0, 1] as const;

/** A refuting camera must have the point this far inside its image (px): a PSF and some pointing error. */
const REFUTE_MARGIN_PX = 16;

/** Framesets of fused detections to measurements, for one rig. */
export class VoxelStage {
  /** The pairs that vote (every pair, each by its view camera), in grid order. */
  readonly pairs: string[];
  readonly #views = new Map<string, Camera>();
  /** Each pair's view camera as its calibration says, before any learnt turn, and its digest (Camera.calibrationId). */
  readonly #written = new Map<string, { camera: Camera; id: string }>();
  /** How many times the view cameras have been turned (learn_turn). */
  #turnRevision = 0;
  readonly #grid: VoxelGrid;
  readonly #minScore: number;
  readonly #association: Partial<AssociationOptions>;
  readonly trackAided: boolean;
  readonly #processNoise: number;
  readonly #maxTrackAge: number;
  readonly #duplicateM: number;
  /** This shard's part of the airspace, when sharded. */
  readonly shard: (ShardSpec & { region: ShardRegion }) | undefined;
  #known: { t_ns: bigint; tracks: KnownTrack[] } | undefined;
  #last: { t_ns: bigint; points: { position: Vec3; covariance: Mat3 }[] } | undefined;
  readonly #maxSpeed: number;
  readonly #singleView: boolean;
  readonly #ghostViews: number;
  readonly #refuteSnr: number;
  readonly #splitPairings: number;
  readonly #bands = new Map<string, 'mono' | 'thermal'>();
  readonly #masks = new Map<string, DetectionMask>();
  /** Each pair's learned pixel error (learn_floor), by its index in `pairs`. */
  readonly #floors: ResidualFloor | undefined;
  /** The rig's pixel error its voted points show, before tracks teach the floors (learn_floor). */
  readonly #voted: VotedFloor | undefined;
  /** Each pair's view camera's pointing refined (learn_turn), by its index in `pairs`. */
  readonly #turns: TurnCalibration | undefined;
  readonly #pixelVarFloor: number;
  readonly #residualChi2: number;
  /** Where the next frameset's learning starts among its points, so every track teaches in turn. */
  #learnFrom = 0;

  constructor(scenario: Scenario, o: VoxelStageOptions = {}) {
    for (const p of rigPairs(rigOf(scenario))) {
      this.#views.set(p.name, p.view.model);
      this.#written.set(p.name, { camera: p.view.model, id: p.view.model.calibrationId() });
      this.#bands.set(p.name, p.view.band);
      if (p.view.mask !== undefined) this.#masks.set(p.name, detectionMaskFile(p.view.mask));
    }
    this.pairs = [...this.#views.keys()];
    if (this.pairs.length > 64) throw new TypeError(`options.scenario: at most 64 pairs vote in one grid, got ${this.pairs.length}`);
    checkVoxelStageOptions(o as Record<string, unknown>);
    this.#minScore = Number(o.min_score ?? 0);
    this.#association = o.association ?? {};
    this.trackAided = o.track_aided !== false;
    this.#processNoise = Number(o.process_noise ?? 20);
    this.#maxTrackAge = Number(o.max_track_age_s ?? 0.5);
    this.#duplicateM = Number(o.duplicate_m ?? 1);
    this.#maxSpeed = Number(o.max_speed_mps ?? 40);
    this.#singleView = o.single_view !== false;
    this.#ghostViews = o.ghost_views ?? 3;
    this.#refuteSnr = o.refute_snr ?? 10;
    this.#splitPairings = o.split_pairings ?? 256;
    this.#floors = o.learn_floor === false ? undefined : new ResidualFloor(this.pairs.length);
    this.#voted = o.learn_floor === false ? undefined : new VotedFloor();
    this.#turns = o.learn_turn === false ? undefined : new TurnCalibration([...this.#views.values()].map((c) => c.fx));
    this.#pixelVarFloor = { ...DEFAULT_ASSOCIATION, ...this.#association }.pixelVarFloor;
    this.#residualChi2 = { ...DEFAULT_ASSOCIATION, ...this.#association }.residualChi2;
    const shard = parseShardSpec(o.shard);
    const box = (o.voxel?.worldBox as Box | undefined) ?? scenarioBox(scenario, 100);
    this.shard = shard && { ...shard, region: shardRegion(box, shard) };
    // The budget is taken at start: a cold start's first frameset fills it at once.
    this.#grid = new VoxelGrid({ ...voxelStageGrid(o.voxel ?? {}), worldBox: this.shard?.region.workBox ?? box });
    this.#grid.setCameras([...this.#views.values()].map((c) => c.center));
  }

  /**
   * The pairs whose learned floor (learn_floor) has moved past twice or half what was last
   * reported, above the configured floor: a camera that disagrees with the others, for the
   * operator to hear of (its calibration, or its clock). Each change is reported once.
   */
  floorChanges(): { pair: string; floor_px2: number; rms_px: number }[] {
    return (this.#floors?.changes(this.#pixelVarFloor) ?? []).map(({ camera, floor }) => ({ pair: this.pairs[camera]!, floor_px2: floor, rms_px: Math.sqrt(floor) }));
  }

  /**
   * The pairs whose view camera's pointing, refined from its views (learn_turn), has turned past
   * twice what was last reported (at first 0.1 px): a camera that moved, for the operator to hear of.
   */
  turnChanges(): { pair: string; turn_deg: number; turn_px: number; turn_axes_deg: number[] }[] {
    return (this.#turns?.changes() ?? []).map(({ camera, turn_deg, turn_px }) => ({ pair: this.pairs[camera]!, turn_deg, turn_px, turn_axes_deg: this.#turns!.total(camera).map((w) => (w * 180) / Math.PI) }));
  }

  /** How many times the view cameras have been turned (learn_turn): a change says learnedTurns has news. */
  get turnRevision(): number {
    return this.#turnRevision;
  }

  /** Whether the stage refines its cameras' pointing (learn_turn). */
  get learnsTurns(): boolean {
    return this.#turns !== undefined;
  }

  /**
   * Each pair whose view camera has been turned from its views (learn_turn): the turn, and the
   * digest of the calibration it was learnt against (Camera.calibrationId).
   */
  learnedTurns(): { pair: string; calibration: string; turn_rad: Vec3; turn_deg: number }[] {
    const turns = this.#turns;
    if (!turns) return [];
    return this.pairs.flatMap((pair, c) => {
      const w = turns.total(c);
      const angle = Math.hypot(...w);
      return angle > 0 ? [{ pair, calibration: this.#written.get(pair)!.id, turn_rad: [w[0], w[1], w[2]] as Vec3, turn_deg: (angle * 180) / Math.PI }] : [];
    });
  }

  /**
   * Points the pairs' view cameras as a stage before this one had learnt to (learnedTurns): each
   * turn whose pair and calibration digest match this rig's; returns the pairs turned. None
   * with learn_turn off, where the calibration as written stands.
   */
  restoreTurns(learned: readonly { pair: string; calibration: string; turn_rad: readonly number[] }[]): string[] {
    const turns = this.#turns;
    if (!turns) return [];
    const restored: string[] = [];
    for (const l of learned) {
      const c = this.pairs.indexOf(l.pair);
      if (c < 0 || this.#written.get(l.pair)!.id !== l.calibration || l.turn_rad.length !== 3 || !l.turn_rad.every(Number.isFinite)) continue;
      turns.seed(c, [l.turn_rad[0]!, l.turn_rad[1]!, l.turn_rad[2]!]);
      this.#turnView(c);
      restored.push(l.pair);
    }
    if (restored.length > 0) this.#turnRevision++;
    return restored;
  }

  /** Pair `c`'s view camera: its calibration as written, turned by what has been learnt. */
  #turnView(c: number): void {
    const pair = this.pairs[c]!;
    this.#views.set(pair, this.#written.get(pair)!.camera.turned(this.#turns!.total(c)));
  }

  /** Settles once the voxel grid has taken its memory budget (on a worker thread), so no frameset waits for it. */
  ready(): Promise<void> {
    return this.#grid.ready();
  }

  /** Takes the tracker's latest output; an older one than held is ignored. */
  setTracks(m: MessageOf<typeof Tracks>): void {
    if (this.#known && m.t_ns < this.#known.t_ns) return;
    const tracks = m.tracks.map((t) => ({ position: t.position, velocity: t.velocity, P: binToF64(t.covariance), established: t.status !== 'tentative' }));
    this.#known = { t_ns: m.t_ns, tracks: tracks.filter((t) => t.P.length === 36 && t.P.every(Number.isFinite)) };
  }

  /**
   * Residuals for each camera's learned floor and pointing: where an established track's point
   * projects into a camera, the one detection within LEARN_RADIUS_PX of it (TURN_RADIUS_PX or _RAD for
   * the turns), if exactly one is (a crowd's ambiguous neighbourhoods teach the floors nothing) —
   * whether or not the association took it: a camera off its calibration is the one whose views
   * miss the gate. Where a crowd leaves more than one, the turns take the detection the
   * association picked for the point, if it did: in a swarm the views alone near their point
   * were too few for the fit to converge. The floors learn from points of three views or more, the turns from two or more
   * (turn-calibration.ts says which it trusts how far). A few points a frameset are plenty
   * (LEARN_POINTS). When the cameras turn, the frameset's other views saw them as they were,
   * so its learning stops there.
   */
  #learnFromViews(points: readonly AssociatedPoint[], tracks: readonly KnownTrack[], dets: readonly PairDetections[], pairIndex: readonly number[], added: readonly number[]): void {
    let taken = 0;
    // A point of two views teaches the rig's turns (each camera's residual across the other's
    // epipolar line), not the floors.
    const minViews = this.#turns ? 2 : 3;
    for (let i = 0; i < points.length && taken < LEARN_POINTS; i++) {
      const p = points[(i + this.#learnFrom) % points.length]!;
      if (p.hypothesis >= tracks.length || !tracks[p.hypothesis]!.established || p.views < minViews) continue;
      taken++;
      const views: TurnView[] = [];
      for (const [k, d] of dets.entries()) {
        const withTurn = this.#turns ? d.camera.projectWithTurnJacobian(p.position) : undefined;
        const uv: readonly [number, number] | undefined = withTurn ? [withTurn.u, withTurn.v] : d.camera.project(p.position);
        const radius = withTurn ? Math.min(TURN_RADIUS_PX, Math.max(LEARN_RADIUS_PX, TURN_RADIUS_RAD * d.camera.fx)) : LEARN_RADIUS_PX;
        if (!uv || !d.camera.inImage(uv[0], uv[1], radius)) continue;
        let near = -1;
        let r2 = Infinity;
        let count = 0;
        let countNear = 0;
        for (let j = 0; j < d.count && countNear < 2; j++) {
          const e2 = (d.blobs[j * FUSED_STRIDE]! - uv[0]) ** 2 + (d.blobs[j * FUSED_STRIDE + 1]! - uv[1]) ** 2;
          if (e2 > radius ** 2) continue;
          count++;
          if (e2 <= LEARN_RADIUS_PX ** 2) countNear++;
          if (e2 < r2) [near, r2] = [j, e2];
        }
        if (countNear === 1) {
          // The detection's own variance: without what was added for the camera.
          const b = d.blobs;
          const own = Math.max(0, b[near * FUSED_STRIDE + 2]! - added[k]!) + Math.max(0, b[near * FUSED_STRIDE + 3]! - added[k]!);
          this.#floors?.add(pairIndex[k]!, r2, own, p.views);
        }
        if (!withTurn) continue;
        if (count !== 1) {
          // In a crowd no detection is alone near the point: the one the association took, if any.
          const pick = p.picks.find(([pi]) => pi === k);
          if (!pick) continue;
          near = pick[1];
        }
        const b = d.blobs;
        const variance = (b[near * FUSED_STRIDE + 2]! + b[near * FUSED_STRIDE + 3]!) / 2 + this.#pixelVarFloor;
        views.push({ camera: pairIndex[k]!, du: b[near * FUSED_STRIDE]! - withTurn.u, dv: b[near * FUSED_STRIDE + 1]! - withTurn.v, Jp: withTurn.J, Jt: withTurn.Jt, variance });
      }
      const turns = this.#turns?.addPoint(views);
      if (!turns) continue;
      // Each turned camera is the calibration as written turned by the sum so far, as a restarted stage restores it.
      for (const [c, turn] of turns.entries()) if (turn) this.#turnView(c);
      this.#turnRevision++;
      break;
    }
    this.#learnFrom += taken;
  }

  /** A voted point's two views, triangulated with unit weights, teach the rig's voted floor (VotedFloor). */
  #learnFromVoted(picks: readonly [number, number][], dets: readonly PairDetections[], added: readonly number[]): void {
    let noise = 0;
    const views: View[] = picks.map(([pi, j]) => {
      const b = dets[pi]!.blobs;
      noise += Math.max(0, (b[j * FUSED_STRIDE + 2]! + b[j * FUSED_STRIDE + 3]!) / 2 - added[pi]!);
      return { camera: dets[pi]!.camera, u: b[j * FUSED_STRIDE]!, v: b[j * FUSED_STRIDE + 1]!, cov: UNIT_COV };
    });
    const t = triangulate(views);
    if (t) this.#voted!.add(t.chi2, noise / views.length);
  }

  /** One frameset's measurements. */
  async process(set: Frameset<Fused>): Promise<{ meas: Meas; info: VoxelStageInfo }> {
    const dets: PairDetections[] = [];
    const witnesses: Witness[] = [];
    const pairIndex: number[] = [];
    // What each camera's learned floor added to its detections' variances (px², per axis).
    const added: number[] = [];
    for (const [pair, fused] of set.views) {
      const camera = this.#views.get(pair);
      if (!camera) continue;
      const index = this.pairs.indexOf(pair);
      let blobs = binToF32(fused.blobs);
      // What this camera's views taught about its error (until they have, the voted points'), beyond the configured floor.
      const own = this.#floors?.excess(index) ?? 0;
      const extra = (this.#floors?.learnt(index) ? own : Math.max(own, this.#voted?.excess(this.#pixelVarFloor, this.#residualChi2) ?? 0)) - this.#pixelVarFloor;
      if (extra > 0) {
        blobs = blobs.slice();
        for (let i = 0; i < fused.count; i++) {
          blobs[i * FUSED_STRIDE + 2] = blobs[i * FUSED_STRIDE + 2]! + extra;
          blobs[i * FUSED_STRIDE + 3] = blobs[i * FUSED_STRIDE + 3]! + extra;
        }
      }
      added.push(Math.max(0, extra));
      const claimed = new Uint8Array(fused.count);
      for (let i = 0; i < fused.count; i++) if (blobs[i * FUSED_STRIDE + 9]! < this.#minScore) claimed[i] = 1;
      dets.push({ camera, blobs, count: fused.count, claimed });
      witnesses.push({ camera, band: this.#bands.get(pair)!, blobs, count: fused.count, complete: !fused.overflow, mask: this.#masks.get(pair) });
      pairIndex.push(index);
    }
    // 1. Detections that fit a known track.
    const hyps: Hypothesis[] = [];
    const known = this.#known;
    let aided = false;
    if (this.trackAided && known) {
      const dt = Number(set.t_ns - known.t_ns) / 1e9;
      aided = Math.abs(dt) <= this.#maxTrackAge;
      if (aided) {
        for (const t of known.tracks) {
          const h = predict(t, dt, this.#processNoise);
          hyps.push({ position: h.position, covariance: h.covariance, singleView: this.#singleView && t.established });
        }
      }
    }
    // Without tracks (a cold start, the tracker down) the last frameset's points guide the
    // association instead, each moved up to max_speed_mps since: otherwise every ray of a
    // crowded sky would vote again, frameset after frameset.
    const last = this.#last;
    if (this.trackAided && !aided && last) {
      const dt = Number(set.t_ns - last.t_ns) / 1e9;
      const spread = (this.#maxSpeed * dt) ** 2;
      if (dt > 0 && dt <= this.#maxTrackAge) for (const p of last.points) hyps.push({ position: p.position, covariance: mapPacked(p.covariance, (v, k) => (k % 4 === 0 ? v + spread : v)) as unknown as Mat3, singleView: false });
    }
    // Every shard claims the detections of every track alike, so none votes twice; each
    // triangulates only the hypotheses in its own slab.
    const owned = this.shard ? (h: Hypothesis) => this.shard!.region.owns(h.position) : undefined;
    const singles: SingleView[] = [];
    // A track's point of few views meets the witness test a voted one meets (below): a crossing
    // of two objects' rays that once became a track is not kept alive by its own association.
    const refute = { minSnr: this.#refuteSnr, searchPx: this.#association.maxSearchPx ?? DEFAULT_ASSOCIATION.maxSearchPx, marginPx: REFUTE_MARGIN_PX };
    const points = associateAndTriangulate(hyps, dets, this.#association, owned, singles).filter((p) => {
      if (!(p.views < this.#ghostViews && refutingWitness(p.position, p.picks, witnesses, refute) >= 0)) return true;
      for (const [pi, j] of p.picks) dets[pi]!.claimed[j] = 0;
      return false;
    });
    if ((this.#floors || this.#turns) && aided) this.#learnFromViews(points, known!.tracks, dets, pairIndex, added);
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
    const grid = this.#grid;
    const out = await grid.process({ origins: Float64Array.from(origins), dirs: Float64Array.from(dirs), weights: Float32Array.from(weights), cameras: Int32Array.from(cams) });
    const info: VoxelStageInfo = { cast_ms: performance.now() - castStart, tracks: hyps.length, track_points: points.length, leftover_rays: weights.length, steps: out.steps, bricks: out.bricks, lost: out.lost, peaks: out.peaks.length, ghosts: 0 };
    const minViews = this.#association.minViews ?? DEFAULT_ASSOCIATION.minViews;
    const peaks: Hypothesis[] = mapPacked(selectPeaks(out.peaks, minViews), (i) => {
      const p = out.peaks[i]!;
      // The peak is known to its voxel at best: half a voxel of spread on each axis at least.
      const floor = (grid.params.minVoxel * 2 ** p.level) ** 2 / 4;
      const c = p.covariance.slice();
      for (let a = 0; a < 3; a++) c[a * 4] = c[a * 4]! + floor;
      // Every hypothesis has the same fields, so the association code sees one object shape.
      return { position: p.position, covariance: c as unknown as Mat3, singleView: false };
    });
    // A peak point within duplicate_m of a track's point is the same object seen through the
    // views its track did not claim: one measurement per object.
    const tracked = points.length;
    // A voted point of few views that a camera would plainly see, and does not, is two
    // objects' rays crossing: left out, its detections free for the tracks' single rays.
    const split = splitCrowdedPeaks(peaks, dets, { ...DEFAULT_ASSOCIATION, ...this.#association }, this.#splitPairings);
    const voted: (readonly [number, number][])[] = [];
    const hearVoted = this.#voted
      ? (picks: readonly [number, number][]) => {
          if (picks.length === 2) voted.push(picks.slice());
        }
      : undefined;
    for (const p of associateAndTriangulate(split, dets, this.#association, owned, undefined, hearVoted)) {
      if (p.views < this.#ghostViews && refutingWitness(p.position, p.picks, witnesses, refute) >= 0) {
        for (const [pi, j] of p.picks) dets[pi]!.claimed[j] = 0;
        info.ghosts++;
        continue;
      }
      let near = false;
      for (let i = 0; i < tracked && !near; i++) {
        const q = points[i]!.position;
        near = Math.hypot(p.position[0] - q[0], p.position[1] - q[1], p.position[2] - q[2]) < this.#duplicateM;
      }
      if (!near) points.push(p);
    }
    // The voted points teach the rig's floor only while new objects are most of what the stage
    // sees (a cold start, an association that broke down): then the true ones are a fair share
    // of them; in a tracked sky they are mostly ghosts and a few births.
    const established = aided ? known!.tracks.reduce((n, t) => n + (t.established ? 1 : 0), 0) : 0;
    if (established < voted.length) for (const picks of voted) this.#learnFromVoted(picks, dets, added);
    // 3. A known track that one camera alone saw, if nothing else took that detection: its ray.
    const floor = { ...DEFAULT_ASSOCIATION, ...this.#association }.pixelVarFloor;
    const rays: number[] = [];
    for (const v of singles) {
      const d = dets[v.pair]!;
      if (d.claimed[v.detection]) continue;
      d.claimed[v.detection] = 1;
      const r = detectionRay(d, v.detection, floor);
      rays.push(...r.origin, ...r.dir, r.angleVar, r.weight);
    }
    this.#last = { t_ns: set.t_ns, points: mapPacked(points, (p) => ({ position: p.position, covariance: p.covariance })) };
    const values = points.flatMap((p) => [...p.position, ...p.covariance, p.weight, p.views]);
    const shardOf = this.shard ? { shard: { index: this.shard.index, count: this.shard.count, axis: this.shard.region.axis, cuts: this.shard.region.cuts } } : {};
    const rayPart = rays.length ? { ray_count: rays.length / RAY_STRIDE, rays: f64ToBin(rays) } : {};
    return { meas: { t_ns: set.t_ns, count: points.length, pairs: [...set.views.keys()], points: f64ToBin(values), ...rayPart, ...shardOf }, info };
  }
}
