/**
 * The tracker stage, free of the bus: one Measurements message is one scan; out come the
 * Tracks message and the scan's TrackEvents. The tracker actor runs it live (with checkpoints
 * and the archive around it); batch processing runs it offline on the same inputs.
 */
import { binToF64, f64ToBin } from '../../bus/codec.js';
import type { Vec3 } from '../../geometry/vec3.js';
import { MEAS_STRIDE, type Measurements, RAY_STRIDE } from '../../schemas/measurement.js';
import type { MessageOf } from '../../schemas/message.js';
import type { TrackEvent, Tracks } from '../../schemas/tracks.js';
import type { PairCoverage } from './coverage.js';
import { type Measurement, position, score, Tracker, type TrackerOptions, velocity } from './tracker.js';

type Meas = MessageOf<typeof Measurements>;
export type TracksMessage = MessageOf<typeof Tracks>;
export type TrackEventMessage = MessageOf<typeof TrackEvent>;

/** The measurements of one scan, out of their wire layout. */
export function measurementsOf(m: Meas): Measurement[] {
  const v = binToF64(m.points);
  const ms: Measurement[] = [];
  for (let i = 0; i < m.count; i++) {
    const o = i * MEAS_STRIDE;
    ms.push({ position: [v[o]!, v[o + 1]!, v[o + 2]!], covariance: Array.from(v.subarray(o + 3, o + 12)), views: v[o + 13]! });
  }
  if (m.rays && m.ray_count) {
    const r = binToF64(m.rays);
    for (let i = 0; i < m.ray_count; i++) {
      const o = i * RAY_STRIDE;
      // A ray's point and covariance depend on the track it is held against (tracker.ts).
      ms.push({ position: [r[o]!, r[o + 1]!, r[o + 2]!], covariance: [], views: 1, ray: { origin: [r[o]!, r[o + 1]!, r[o + 2]!], dir: [r[o + 3]!, r[o + 4]!, r[o + 5]!], angleVar: r[o + 6]! } });
    }
  }
  return ms;
}

const blind = () => false;

/** A tracker with its scan counter and time origin. */
export class TrackerStage {
  tracker: Tracker;
  /** The first scan's time: tracker time is seconds since it. */
  t0: bigint | undefined;
  /** The next scan's number. */
  scan = 0;

  readonly #coverage: PairCoverage | undefined;

  /** `coverage`: the rig's pairs, so that a scan missing some of them misses no track only they see. */
  constructor(options: Partial<TrackerOptions> = {}, coverage?: PairCoverage) {
    this.tracker = new Tracker(options);
    this.#coverage = coverage;
  }

  /**
   * One scan: the tracks after it and its events. `published_ns` is stamped as the message leaves.
   * A scan missing some pairs (dropped, late, or a camera's clock out of step) misses no track
   * that only those could have measured (coverage.ts: a confirmed track no present pair sees, a
   * tentative one fewer than two present pairs see). Without the rig, a scan of one pair's views,
   * which can place no point, misses none.
   */
  step(m: Meas, publishedNs: () => bigint, observed?: (p: Vec3) => boolean): { tracks: TracksMessage; events: TrackEventMessage[] } {
    this.t0 ??= m.t_ns;
    const tracker = this.tracker;
    const byPairs = this.#coverage ? this.#coverage.observer(m.pairs) : m.pairs.length < 2 ? blind : undefined;
    const seen = byPairs && observed ? (p: Vec3, tentative: boolean) => byPairs(p, tentative) && observed(p) : (byPairs ?? observed);
    const found = tracker.step(Number(m.t_ns - this.t0) / 1e9, measurementsOf(m), seen);
    const scan = this.scan++;
    const tracks: TracksMessage = {
      t_ns: m.t_ns,
      scan,
      published_ns: publishedNs(),
      tracks: tracker.tracks.filter((t) => tracker.shown(t)).map((t) => ({
        id: t.id,
        status: t.status,
        position: position(t),
        velocity: velocity(t),
        covariance: f64ToBin(t.state.P.v),
        score: score(t, tracker.options.confirmN),
        views: t.views,
      })),
    };
    const events = found.map((e) => ({ t_ns: m.t_ns, scan, id: e.id, event: e.event, position: e.position }));
    return { tracks, events };
  }
}
