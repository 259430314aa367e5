import { Type } from '@sinclair/typebox';
import { OBJECT_KINDS } from './kinds.js';
import { defineMessage, oneOf, TimeNs, Vec3 } from './message.js';

/** `skyvox.sim.truth`: where every simulated object really is at one frame time (site clock). */
export const SimTruth = defineMessage(
  'SimTruth',
  Type.Object({
    t_ns: TimeNs(),
    frame: Type.Integer({ minimum: 0 }),
    objects: Type.Array(
      Type.Object({
        id: Type.String(),
        kind: oneOf(OBJECT_KINDS),
        clutter: Type.Boolean({ description: 'true for clutter birds: real, but not what is tracked' }),
        size_m: Type.Number({ exclusiveMinimum: 0 }),
        position: Vec3('ENU metres'),
        velocity: Vec3('ENU metres per second'),
      }),
    ),
  }),
);
