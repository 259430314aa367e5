/** Runs an xstate v5 machine as an actor's behaviour: each message is an event. */
import { type AnyStateMachine, type Actor as XActor, createActor, type EventFromLogic, type InputFrom } from 'xstate';
import type { ActorBehavior, ActorContext } from './actor.js';

/**
 * A behaviour whose state lives in `machine`. An error inside the machine crashes the actor
 * (so its supervisor applies its policy); reaching a final state ends it normally.
 */
export function machineBehavior<T extends AnyStateMachine>(
  machine: T,
  input?: (ctx: ActorContext<EventFromLogic<T>>) => InputFrom<T>,
  onSnapshot?: (snapshot: ReturnType<XActor<T>['getSnapshot']>, ctx: ActorContext<EventFromLogic<T>>) => void,
): ActorBehavior<EventFromLogic<T>> & { machineActor(): XActor<T> | undefined } {
  let running: XActor<T> | undefined;
  return {
    machineActor: () => running,
    start(ctx) {
      const actor = createActor(machine, input ? { input: input(ctx) } : undefined) as XActor<T>;
      running = actor;
      actor.subscribe({
        next: (snapshot) => {
          onSnapshot?.(snapshot, ctx);
          if ((snapshot as { status?: string }).status === 'done') ctx.exit();
        },
        error: (err) => ctx.fail(err instanceof Error ? err : new Error(String(err))),
      });
      actor.start();
    },
    handle(event) {
      running?.send(event);
    },
    stop() {
      running?.stop();
      running = undefined;
    },
  };
}
