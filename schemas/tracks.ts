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
