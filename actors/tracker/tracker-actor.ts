/**
 * The tracker actor: each `skyvox.meas` message is one scan; it publishes every track on
 * `skyvox.tracks` and births, confirmations and losses on `skyvox.track.events`.
 */
import { binToF64, f64ToBin } from '../../bus/codec.js';
import { MEAS_STRIDE, Measurements } from '../../schemas/measurement.js';
import type { MessageOf } from '../../schemas/message.js';
import { TrackEvent, Tracks } from '../../schemas/tracks.js';
import type { ActorBehavior } from '../../supervisors/actor.js';
import { nowNs } from '../../supervisors/clock.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';
import { type Measurement, position, score, Tracker, type TrackerOptions, velocity } from './tracker.js';

type Meas = MessageOf<typeof Measurements>;

/** Factory for the `tracker` actor kind: options are TrackerOptions (tracker.ts). */
export function trackerActor(f: ActorFactoryContext): ActorBehavior<Meas> {
  const options = (f.options ?? {}) as Partial<TrackerOptions>;
  let tracker: Tracker;
  let t0: bigint | undefined;
  let scan = 0;
  return {
    start(ctx) {
      tracker = new Tracker(options);
      ctx.subscribe(Measurements, ctx.bus!.subjects.meas, (m) => m);
    },
    handle(m, ctx) {
      t0 ??= m.t_ns;
      const v = binToF64(m.points);
      const ms: Measurement[] = [];
      for (let i = 0; i < m.count; i++) {
        const o = i * MEAS_STRIDE;
        ms.push({ position: [v[o]!, v[o + 1]!, v[o + 2]!], covariance: Array.from(v.subarray(o + 3, o + 12)), views: v[o + 13]! });
      }
      const events = tracker.step(Number(m.t_ns - t0) / 1e9, ms);
      const s = ctx.bus!.subjects;
      ctx.publish(Tracks, s.tracks, {
        t_ns: m.t_ns,
        scan,
        published_ns: nowNs(),
        tracks: tracker.tracks.map((t) => ({
          id: t.id,
          status: t.status,
          position: position(t),
          velocity: velocity(t),
          covariance: f64ToBin(t.state.P.v),
          score: score(t, tracker.options.confirmN),
          views: t.views,
        })),
      });
      for (const e of events) ctx.publish(TrackEvent, s.trackEvents, { t_ns: m.t_ns, scan, id: e.id, event: e.event, position: e.position });
      scan++;
    },
  };
}
