/**
 * The pipeline after the motion stage — fusion per pair, voxel, tracker — run offline in one
 * process on detections given in time order. It makes the same framesets the live actors make
 * (their tolerances and waits, with the detections' own times as the clock) and feeds each
 * scan's tracks back to the voxel stage before the next frameset, as a live run that keeps up
 * does; so its tracks are those of a live run of the same detections.
 */
import type { TSchema, Static } from '@sinclair/typebox';
import { FramesetAssembler, type Frameset } from '../../frames/frameset.js';
import { pairMapping, type PairMapping } from '../../geometry/pair.js';
import type { DetectionFrame } from '../../schemas/detections.js';
import { FusedFrame } from '../../schemas/fused.js';
import type { MessageOf, MessageType } from '../../schemas/message.js';
import { Measurements } from '../../schemas/measurement.js';
import { Tracks } from '../../schemas/tracks.js';
import { rigOf, rigPairs } from '../../sim/rig.js';
import type { Scenario } from '../../sim/scenario.js';
import { DEFAULT_FUSE_OPTIONS, fuse, type FuseOptions, passThrough } from '../fusion/fuse.js';
import { pairFramesets, pairFramesetSettings, type PairFramesetSettings } from '../fusion/pair-framesets.js';
import type { TrackerOptions } from '../tracker/tracker.js';
import { PairCoverage } from '../tracker/coverage.js';
import { type TrackEventMessage, TrackerStage, type TracksMessage } from '../tracker/tracker-stage.js';
import { type Fused, VoxelStage, type VoxelStageInfo, type VoxelStageOptions } from '../voxel/voxel-stage.js';
import { voxelTimingSettings, type VoxelTimingSettings } from '../voxel/voxel-settings.js';

type Detections = MessageOf<typeof DetectionFrame>;

/** The live actors' settings that shape the output (their defaults when absent). */
export interface OfflineOptions {
  fusion?: Partial<PairFramesetSettings> & { fuse?: Partial<FuseOptions> };
  voxel?: VoxelStageOptions & Partial<VoxelTimingSettings>;
  tracker?: Partial<TrackerOptions>;
}

/**
 * How a message passes from one stage to the next. Live it crosses NATS: encoded, decoded and
 * validated, arriving as a different object than was sent; here it is handed over as it is,
 * unless the caller (the warm-up, which must meet the code paths a live run meets) says so.
 */
export type Relay = <S extends TSchema>(type: MessageType<S>, value: Static<S>) => Static<S>;
const handOver: Relay = (_type, value) => value;

/** One scan's output. */
export interface ScanOutput {
  tracks: TracksMessage;
  events: TrackEventMessage[];
  fused: Fused[];
  /** The voxel stage's account of the frameset, and how long it took (ms of wall time). */
  voxel: VoxelStageInfo & { ms: number };
}

/** A pair with both cameras, fused; or with one, passed on (`single`). */
type Pair = { name: string } & ({ mono: string; thermal: string; mapping: PairMapping; sets: FramesetAssembler<Detections> } | { single: { cam: string; band: 'mono' | 'thermal' } });

/**
 * The detections' clock in milliseconds, fractional as the live actors' performance.now() is:
 * whole milliseconds would be small integers to V8, and the frameset code compiled on them
 * (the warm-up) would deopt on the live run's first doubles.
 */
const ms = (t: bigint) => Number(t) / 1e6;

/** Detections (in time order) to tracks, the way the live fusion, voxel and tracker actors do it. */
export class OfflinePipeline {
  readonly #pairs: Pair[] = [];
  readonly #byCam = new Map<string, Pair>();
  readonly #voxel: VoxelStage;
  readonly #voxelSets: FramesetAssembler<Fused>;
  readonly #tracker: TrackerStage;
  readonly #fuse: FuseOptions;
  readonly #relay: Relay;
  #last: bigint | undefined;
  /** Scans whose tracks still reach the voxel stage too late for the next frameset. */
  #lateScans: number;
  /** Detections that came out of time order (beyond the framesets' tolerance they are late). */
  unordered = 0;

  /**
   * `lateScans`: the first scans' tracks miss the next frameset, as live at a cold start, when
   * the tracker's first scans take longer than a frame (the warm-up meets that path this way).
   */
  constructor(scenario: Scenario, o: OfflineOptions = {}, relay: Relay = handOver, lateScans = 0) {
    this.#relay = relay;
    this.#lateScans = lateScans;
    const rig = rigOf(scenario);
    const grouping = pairFramesetSettings(o.fusion ?? {});
    // As live: one fusion per pair, fusing both cameras or passing on the one there is.
    for (const p of rigPairs(rig)) {
      const pair: Pair =
        p.mono && p.thermal
          ? { name: p.name, mono: p.mono.id, thermal: p.thermal.id, mapping: pairMapping(p.mono.model, p.thermal.model), sets: pairFramesets<Detections>(p.mono.id, p.thermal.id, grouping) }
          : { name: p.name, single: { cam: p.view.id, band: p.view.band } };
      this.#pairs.push(pair);
      for (const c of [p.mono, p.thermal]) if (c) this.#byCam.set(c.id, pair);
    }
    this.#fuse = { ...DEFAULT_FUSE_OPTIONS, ...o.fusion?.fuse };
    this.#voxel = new VoxelStage(scenario, o.voxel);
    const timing = voxelTimingSettings(o.voxel ?? {});
    this.#voxelSets = new FramesetAssembler<Fused>({ cameras: this.#voxel.pairs, toleranceNs: BigInt(Math.round(timing.tolerance_ms * 1e6)), maxWaitMs: timing.max_wait_ms });
    this.#tracker = new TrackerStage(o.tracker, new PairCoverage(rig));
  }

  /** The voxel stage's learnt turns (VoxelStage.learnedTurns): where it has found the cameras to point. */
  learnedTurns(): ReturnType<VoxelStage['learnedTurns']> {
    return this.#voxel.learnedTurns();
  }

  /** Settles once the voxel stage has taken its grid's memory budget (its first frameset waits for it otherwise). */
  ready(): Promise<void> {
    return this.#voxel.ready();
  }

  /** Takes the next detection frame (in time order); returns the scans it completed. */
  async push(det: Detections): Promise<ScanOutput[]> {
    if (this.#last !== undefined && det.t_ns < this.#last) this.unordered++;
    this.#last = det.t_ns;
    const now = ms(det.t_ns);
    const fused: Fused[] = [];
    for (const pair of this.#pairs) {
      const own = pair === this.#byCam.get(det.cam);
      if ('single' in pair) {
        if (own) fused.push(this.#relay(FusedFrame, passThrough(pair.name, det, pair.single.band, this.#fuse)));
        continue;
      }
      this.#fuseSets(pair, own ? pair.sets.add(det.cam, det.t_ns, det, now) : pair.sets.poll(now), fused);
    }
    return this.#vote(fused, now, false);
  }

  /** The end of the detections: everything still waiting goes through. */
  async finish(): Promise<ScanOutput[]> {
    const fused: Fused[] = [];
    for (const pair of this.#pairs) if (!('single' in pair)) this.#fuseSets(pair, pair.sets.flush(), fused);
    return this.#vote(fused, Infinity, true);
  }

  #fuseSets(pair: Exclude<Pair, { single: unknown }>, sets: Frameset<Detections>[], into: Fused[]): void {
    for (const s of sets) {
      const m = s.views.get(pair.mono);
      if (m) into.push(this.#relay(FusedFrame, fuse(pair.name, m, s.views.get(pair.thermal), pair.mapping, this.#fuse)));
    }
  }

  async #vote(fused: Fused[], now: number, end: boolean): Promise<ScanOutput[]> {
    const out: ScanOutput[] = [];
    const sets: Frameset<Fused>[] = [];
    for (const f of fused) sets.push(...this.#voxelSets.add(f.pair, f.t_ns, f, Number.isFinite(now) ? now : ms(f.t_ns)));
    if (Number.isFinite(now)) sets.push(...this.#voxelSets.poll(now));
    if (end) sets.push(...this.#voxelSets.flush());
    for (const set of sets) {
      const start = performance.now();
      const voted = await this.#voxel.process(set);
      const voxel = { ...voted.info, ms: performance.now() - start };
      const meas = this.#relay(Measurements, voted.meas);
      const { tracks, events } = this.#tracker.step(meas, () => meas.t_ns);
      if (this.#voxel.trackAided) {
        const known = this.#relay(Tracks, tracks);
        if (this.#lateScans > 0) this.#lateScans--;
        else this.#voxel.setTracks(known);
      }
      out.push({ tracks, events, fused: [...set.views.values()], voxel });
    }
    return out;
  }
}
