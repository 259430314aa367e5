import { Type } from '@sinclair/typebox';
import { Bin, defineMessage, TimeNs } from './message.js';

/** Per-point values of `Measurements.points`. */
export const MEAS_FIELDS = ['x', 'y', 'z', 'c_xx', 'c_xy', 'c_xz', 'c_yx', 'c_yy', 'c_yz', 'c_zx', 'c_zy', 'c_zz', 'weight', 'views'] as const;
export const MEAS_STRIDE = MEAS_FIELDS.length;

/**
 * `skyvox.meas`: the 3D points of one instant (ENU metres, site clock), each with its 3×3
 * covariance (m², row-major), vote weight and the number of camera pairs whose rays made it.
 */
export const Measurements = defineMessage(
  'Measurements',
  Type.Object({
    t_ns: TimeNs(),
    count: Type.Integer({ minimum: 0 }),
    pairs: Type.Array(Type.String(), { description: 'pairs whose detections this instant used' }),
    points: Bin(`f64 little-endian, count × ${MEAS_STRIDE} values: ${MEAS_FIELDS.join(', ')}`),
  }),
  (m) => (m.points.byteLength === m.count * MEAS_STRIDE * 8 ? undefined : `points: expected ${m.count * MEAS_STRIDE * 8} bytes (count ${m.count} × ${MEAS_STRIDE} f64), got ${m.points.byteLength}`),
);
