import { Type } from '@sinclair/typebox';
import { Bin, defineMessage, TimeNs } from './message.js';

/** `skyvox.dead`: a message that failed decoding or validation, with why, and its original bytes. */
export const DeadLetter = defineMessage(
  'DeadLetter',
  Type.Object({
    t_ns: TimeNs(),
    subject: Type.String({ description: 'subject the message arrived on' }),
    reason: Type.String({ description: 'why it was refused; names the field and what was expected' }),
    receiver: Type.String({ description: 'node/actor (or client) that refused it' }),
    bytes: Bin('the original payload, unchanged'),
  }),
);
