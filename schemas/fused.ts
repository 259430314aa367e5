import { Type } from '@sinclair/typebox';
import { BLOB_FIELDS } from './detections.js';
import { Bin, defineMessage, TimeNs } from './message.js';

/** Per-detection values of `FusedFrame.blobs`: the detection's, then the fusion's. */
export const FUSED_FIELDS = [...BLOB_FIELDS, 'score', 'source'] as const;
export const FUSED_STRIDE = FUSED_FIELDS.length;

/** `source` values: seen by the mono camera only, by both, or by the thermal camera only. */
export const FUSED_SOURCE = { monoOnly: 0, both: 1, thermalOnly: 2 } as const;

/**
 * `skyvox.fused.<pair>`: one pair's detections at one instant, in mono pixel coordinates
 * (thermal-only detections mapped through the pair's calibration), each with a confirmation
 * score in [0, 1]. Unconfirmed detections stay, with a lower score. A pair with one camera
 * passes its detections on in that camera's pixels: `mono` or `thermal` is then empty.
 */
export const FusedFrame = defineMessage(
  'FusedFrame',
  Type.Object({
    t_ns: TimeNs(),
    pair: Type.String(),
    mono: Type.String({ description: 'the mono camera, empty in a pair without one' }),
    thermal: Type.String({ description: 'the thermal camera whose frame was fused, empty when none was' }),
    seq: Type.Integer({ minimum: 0, description: 'sequence number of the mono frame (of the thermal one in a pair without a mono camera)' }),
    count: Type.Integer({ minimum: 0 }),
    thermal_seen: Type.Boolean({ description: 'false when no thermal frame arrived in time: nothing could be confirmed' }),
    overflow: Type.Optional(Type.Integer({ minimum: 0, description: "detections the cameras' blob caps left out: a detection missing here then proves nothing" })),
    blobs: Bin(`f32 little-endian, count × ${FUSED_STRIDE} values: ${FUSED_FIELDS.join(', ')}`),
  }),
  (f) => (f.blobs.byteLength === f.count * FUSED_STRIDE * 4 ? undefined : `blobs: expected ${f.count * FUSED_STRIDE * 4} bytes (count ${f.count} × ${FUSED_STRIDE} f32), got ${f.blobs.byteLength}`),
);
