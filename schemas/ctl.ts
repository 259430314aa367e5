import { Type } from '@sinclair/typebox';
import { ACTOR_STATUSES } from './telemetry.js';
import { defineMessage, oneOf } from './message.js';

/** Commands a node-supervisor answers on `skyvox.ctl.<node>`. */
export const CTL_COMMANDS = ['list', 'restart', 'crash', 'stop'] as const;
export type CtlCommand = (typeof CTL_COMMANDS)[number];

/** Codes of a refused control request; clients switch on these, never on the text. */
export const CTL_ERROR_CODES = {
  invalidRequest: 'INVALID_REQUEST',
  unknownCommand: 'UNKNOWN_COMMAND',
  unknownActor: 'UNKNOWN_ACTOR',
  faultInjectionDisabled: 'FAULT_INJECTION_DISABLED',
  failed: 'FAILED',
} as const;
export type CtlErrorCode = (typeof CTL_ERROR_CODES)[keyof typeof CTL_ERROR_CODES];

/** A control request. `cmd` is any string so an unknown command gets an error reply, not a dead letter. */
export const CtlRequest = defineMessage(
  'CtlRequest',
  Type.Object({
    cmd: Type.String({ description: `one of ${CTL_COMMANDS.join(', ')}` }),
    actor: Type.Optional(Type.String({ description: 'target actor for restart and crash' })),
  }),
);

export const ActorInfo = Type.Object({
  name: Type.String(),
  kind: Type.String(),
  status: oneOf(ACTOR_STATUSES),
  restarts: Type.Integer({ minimum: 0 }),
  uptime_s: Type.Number({ minimum: 0 }),
});

/** The reply: `ok` with data, or `ok: false` with a code and a sentence. */
export const CtlReply = defineMessage(
  'CtlReply',
  Type.Object({
    ok: Type.Boolean(),
    node: Type.String(),
    actors: Type.Optional(Type.Array(ActorInfo)),
    message: Type.Optional(Type.String()),
    error: Type.Optional(
      Type.Object({ code: oneOf(Object.values(CTL_ERROR_CODES)), message: Type.String() }),
    ),
  }),
);
