import { Type } from '@sinclair/typebox';
import { defineMessage, TimeNs } from './message.js';

/** `skyvox.clock` request: the client's clock when it sent the request (t1). */
export const ClockRequest = defineMessage('ClockRequest', Type.Object({ t1: TimeNs() }));

/** The site time server's reply: t1 echoed, its clock at receipt (t2) and at reply (t3). */
export const ClockReply = defineMessage('ClockReply', Type.Object({ t1: TimeNs(), t2: TimeNs(), t3: TimeNs() }));
