import { Type } from '@sinclair/typebox';
import { defineMessage, TimeNs } from './message.js';

/**
 * `skyvox.frame.<cam>` (node-local): a frame is ready in slot `slot` of the camera's ring in
 * shared memory. Pixels never travel; a reader acquires the slot, reads, releases.
 */
export const FrameDescriptor = defineMessage(
  'FrameDescriptor',
  Type.Object({
    t_ns: Object.assign(TimeNs(), { description: 'exposure mid-point on the site clock (corrected camera stamp)' }),
    cam: Type.String(),
    seq: Type.Integer({ minimum: 0, description: 'frame sequence number; gaps are drops' }),
    slot: Type.Integer({ minimum: 0 }),
    width: Type.Integer({ minimum: 1 }),
    height: Type.Integer({ minimum: 1 }),
    bytes_per_pixel: Type.Union([Type.Literal(1), Type.Literal(2)], { expected: '1 or 2' }),
    exposure_us: Type.Number({ minimum: 0 }),
    t_cam_ns: TimeNs(),
    clock_synced: Type.Boolean({ description: 't_ns is the camera stamp corrected to the site clock (false: t_ns = t_cam_ns)' }),
  }),
);
