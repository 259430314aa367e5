import { Type } from '@sinclair/typebox';
import { defineMessage, TimeNs } from './message.js';

/**
 * KV `<prefix>_state`, key = the voxel actor's name (`voxel`, or shards `voxel-1`…): the turns
 * off their calibration it has found its pairs' view cameras to stand at (learn_turn), so an
 * incarnation that starts after a crash or a move points them as its predecessor had learnt to.
 */
export const LearnedTurns = defineMessage(
  'LearnedTurns',
  Type.Object({
    t_ns: TimeNs(),
    node: Type.String({ description: 'the node whose voxel actor wrote it' }),
    session: Type.Optional(Type.String({ description: "a run's name: another run's turns are not taken" })),
    pairs: Type.Array(
      Type.Object({
        pair: Type.String(),
        calibration: Type.String({ description: "digest of the view camera's calibration as written (size, lens, pose): a turn is applied only to the calibration it was learnt against" }),
        turn_rad: Type.Tuple([Type.Number(), Type.Number(), Type.Number()], { description: 'the turn about the camera\'s own x, y, z axes (radians; the camera\'s frame turned to exp([ω]×)·R, its centre fixed)' }),
        turn_deg: Type.Number({ minimum: 0, description: 'the turn\'s angle (degrees)' }),
      }),
    ),
  }),
);
