import { Type } from '@sinclair/typebox';
import { Bin, defineMessage, TimeNs } from './message.js';

/** Per-point values of `Measurements.points`. */
export const MEAS_FIELDS = ['x', 'y', 'z', 'c_xx', 'c_xy', 'c_xz', 'c_yx', 'c_yy', 'c_yz', 'c_zx', 'c_zy', 'c_zz', 'weight', 'views'] as const;
export const MEAS_STRIDE = MEAS_FIELDS.length;

/** Per-ray values of `Measurements.rays`. */
export const RAY_FIELDS = ['ox', 'oy', 'oz', 'dx', 'dy', 'dz', 'angle_var', 'weight'] as const;
export const RAY_STRIDE = RAY_FIELDS.length;

/**
 * `skyvox.meas`: the 3D points of one instant (ENU metres, site clock), each with its 3×3
 * covariance (m², row-major), vote weight and the number of camera pairs whose rays made it;
 * and the single rays that measure a known track only one camera saw (origin, unit direction,
 * angular variance), which a tracker uses to update, never to start, a track.
 */
export const Measurements = defineMessage(
  'Measurements',
  Type.Object({
    t_ns: TimeNs(),
    count: Type.Integer({ minimum: 0 }),
    pairs: Type.Array(Type.String(), { description: 'pairs whose detections this instant used' }),
    points: Bin(`f64 little-endian, count × ${MEAS_STRIDE} values: ${MEAS_FIELDS.join(', ')}`),
    ray_count: Type.Optional(Type.Integer({ minimum: 0, description: 'single rays (absent: none)' })),
    rays: Type.Optional(Bin(`f64 little-endian, ray_count × ${RAY_STRIDE} values: ${RAY_FIELDS.join(', ')} — a camera centre (m), the unit direction of a detection through it, the direction's variance (rad², per axis across the ray) and the detection's confirmation weight`)),
    shard: Type.Optional(
      Type.Object(
        {
          index: Type.Integer({ minimum: 0 }),
          count: Type.Integer({ minimum: 1 }),
          axis: Type.Union([Type.Literal(0), Type.Literal(1)], { description: 'the ENU axis the airspace is cut across (0 east, 1 north)' }),
          cuts: Type.Array(Type.Number(), { description: 'the count − 1 seams along the axis, ascending: shard k owns [cuts[k−1], cuts[k]), the outer two reaching to infinity' }),
        },
        { description: 'from voxel shard `index` of `count`: the points in its slab of the airspace; the instant\'s measurements are the union of all shards\' messages of (nearly) the same t_ns' },
      ),
    ),
  }),
  (m) =>
    m.points.byteLength !== m.count * MEAS_STRIDE * 8
      ? `points: expected ${m.count * MEAS_STRIDE * 8} bytes (count ${m.count} × ${MEAS_STRIDE} f64), got ${m.points.byteLength}`
      : (m.rays?.byteLength ?? 0) !== (m.ray_count ?? 0) * RAY_STRIDE * 8
        ? `rays: expected ${(m.ray_count ?? 0) * RAY_STRIDE * 8} bytes (ray_count ${m.ray_count ?? 0} × ${RAY_STRIDE} f64), got ${m.rays?.byteLength ?? 0}`
        : m.shard && m.shard.index >= m.shard.count
        ? `shard.index: expected less than shard.count ${m.shard.count}, got ${m.shard.index}`
        : m.shard && m.shard.cuts.length !== m.shard.count - 1
          ? `shard.cuts: expected ${m.shard.count - 1} seams (count − 1), got ${m.shard.cuts.length}`
          : undefined,
);
