import { Type } from '@sinclair/typebox';
import { Bin, defineMessage, oneOf, TimeNs, Vec3 } from './message.js';

export const TRACK_STATUSES = ['tentative', 'confirmed', 'coasting'] as const;
export const TRACK_EVENTS = ['born', 'confirmed', 'lost'] as const;

/** `skyvox.tracks`: every track after one scan of the tracker. */
export const Tracks = defineMessage(
  'Tracks',
  Type.Object({
    t_ns: TimeNs(),
    scan: Type.Integer({ minimum: 0 }),
    published_ns: Object.assign(TimeNs(), { description: 'when this message left the tracker (site clock): latency = published_ns − t_ns' }),
    epoch: Type.Optional(
      Object.assign(TimeNs(), {
        description:
          'the publishing tracker incarnation: when it was placed (a cluster order) or started (site clock). Until a replaced incarnation has stopped, two may publish; a reader keeps the scans of the newest epoch it has seen',
      }),
    ),
    tracks: Type.Array(
      Type.Object({
        id: Type.String({ description: 'stable across the track\'s life' }),
        status: oneOf(TRACK_STATUSES),
        position: Vec3('ENU metres'),
        velocity: Vec3('ENU metres per second'),
        covariance: Bin('f64 little-endian 6×6 row-major over x, y, z, vx, vy, vz'),
        score: Type.Number({ minimum: 0, maximum: 1, description: 'share of the recent scans that updated the track' }),
        views: Type.Integer({ minimum: 0, description: 'camera pairs in its last measurement' }),
      }),
    ),
  }),
);

/** `skyvox.track.events`: a track was born, confirmed, or lost. */
export const TrackEvent = defineMessage(
  'TrackEvent',
  Type.Object({ t_ns: TimeNs(), scan: Type.Integer({ minimum: 0 }), id: Type.String(), event: oneOf(TRACK_EVENTS), position: Vec3('ENU metres') }),
);

/**
 * A reader's fence on `skyvox.tracks`: answers false for a scan of an older tracker incarnation
 * than the newest it has seen (one moved away whose node has not yet stopped it), true
 * otherwise. Once the newest has been silent for `staleMs`, any incarnation is heard again: a
 * later placement stamped by a coordinator whose clock runs behind must not be shut out.
 */
export function tracksFence(staleMs = 2000, now: () => number = () => performance.now()): (scan: { epoch?: bigint }) => boolean {
  let newest: bigint | undefined;
  let heardAt = -Infinity;
  return (scan) => {
    if (scan.epoch === undefined) return true;
    const t = now();
    if (newest !== undefined && scan.epoch < newest && t - heardAt <= staleMs) return false;
    newest = scan.epoch;
    heardAt = t;
    return true;
  };
}
