/** The control actor: answers `list`, `restart`, `crash` and `stop` on `skyvox.ctl.<node>`. */
import type { Static } from '@sinclair/typebox';
import { CTL_COMMANDS, CTL_ERROR_CODES, type CtlErrorCode, CtlReply, CtlRequest } from '../../schemas/ctl.js';
import type { ActorBehavior } from '../../supervisors/actor.js';
import type { ActorView } from './view.js';

type Reply = Static<typeof CtlReply.schema>;
type Request = Static<typeof CtlRequest.schema>;

/** What the control actor may do to its node. */
export interface NodeControl {
  node: string;
  allowFaultInjection: boolean;
  list(): ActorView[];
  restart(actor: string): Promise<void>;
  crash(actor: string): void;
  has(actor: string): boolean;
  requestStop(): void;
}

export interface CtlMessage {
  request: Request;
  reply: (r: Reply) => void;
}

/** Builds the control behaviour over `control`. */
export function ctlBehavior(control: NodeControl): ActorBehavior<CtlMessage> {
  const fail = (code: CtlErrorCode, message: string): Reply => ({ ok: false, node: control.node, error: { code, message } });
  const answer = async ({ cmd, actor }: Request): Promise<Reply> => {
    switch (cmd) {
      case 'list':
        return {
          ok: true,
          node: control.node,
          actors: control.list().map((a) => ({ name: a.name, kind: a.kind, status: a.status, restarts: a.restarts, uptime_s: a.uptimeS })),
        };
      case 'restart':
      case 'crash': {
        if (!actor) return fail(CTL_ERROR_CODES.invalidRequest, `Expected an actor name for ${cmd} but received none`);
        if (!control.has(actor)) return fail(CTL_ERROR_CODES.unknownActor, `no actor "${actor}" on node ${control.node}`);
        if (cmd === 'crash') {
          if (!control.allowFaultInjection) {
            return fail(CTL_ERROR_CODES.faultInjectionDisabled, `fault injection is off on node ${control.node}; start it with --allow-fault-injection`);
          }
          // Crash after the reply is sent, so crashing the control actor itself still answers.
          setImmediate(() => control.crash(actor));
          return { ok: true, node: control.node, message: `crash injected into ${actor}` };
        }
        try {
          await control.restart(actor);
        } catch (err) {
          return fail(CTL_ERROR_CODES.failed, `restart of ${actor} failed: ${(err as Error).message}`);
        }
        return { ok: true, node: control.node, message: `${actor} restarted` };
      }
      case 'stop':
        setImmediate(() => control.requestStop());
        return { ok: true, node: control.node, message: 'stopping' };
      default:
        return fail(CTL_ERROR_CODES.unknownCommand, `unknown command "${cmd}"; expected one of ${CTL_COMMANDS.join(', ')}`);
    }
  };
  return {
    start(ctx) {
      const bus = ctx.bus!;
      const sub = bus.serve(
        CtlRequest,
        CtlReply,
        bus.subjects.ctl(control.node),
        (request) =>
          new Promise<Reply>((resolve) => {
            if (!ctx.send({ request, reply: resolve })) resolve(fail(CTL_ERROR_CODES.failed, 'control mailbox is full; try again'));
          }),
        (reason) => fail(CTL_ERROR_CODES.invalidRequest, reason),
      );
      ctx.signal.addEventListener('abort', () => sub.unsubscribe(), { once: true });
    },
    async handle(msg) {
      msg.reply(await answer(msg.request));
    },
  };
}
