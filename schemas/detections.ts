import { Type } from '@sinclair/typebox';
import { Bin, defineMessage, TimeNs } from './message.js';

/** Per-blob values, in this order, in `DetectionFrame.blobs`. */
export const BLOB_FIELDS = ['x', 'y', 'var_x', 'var_y', 'cov_xy', 'flux', 'area', 'snr', 'peak'] as const;
export const BLOB_STRIDE = BLOB_FIELDS.length;

/**
 * `skyvox.det.<cam>`: the blobs one camera saw in one frame. Pixel coordinates follow OpenCV
 * (pixel centres at integers); variances in px²; flux in DN·px (signed: negative = darker
 * than the background); area in px; snr = |flux| / (σ_pixel·√area); peak in DN.
 */
export const DetectionFrame = defineMessage(
  'DetectionFrame',
  Type.Object({
    t_ns: TimeNs(),
    cam: Type.String(),
    seq: Type.Integer({ minimum: 0, description: 'frame sequence number; gaps are drops' }),
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    count: Type.Integer({ minimum: 0 }),
    overflow: Type.Integer({ minimum: 0, description: 'blobs found beyond the cap and not sent' }),
    coded: Type.Optional(Type.Boolean({ description: "the camera's frames look like coded video (most blocks repeat exactly): its noise estimate holds its peaks" })),
    blobs: Bin(`f32 little-endian, count × ${BLOB_STRIDE} values per blob: ${BLOB_FIELDS.join(', ')}`),
  }),
  (f) =>
    f.blobs.byteLength === f.count * BLOB_STRIDE * 4
      ? undefined
      : `blobs: expected ${f.count * BLOB_STRIDE * 4} bytes (count ${f.count} × ${BLOB_STRIDE} f32), got ${f.blobs.byteLength}`,
);
