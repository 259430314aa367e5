/** The site time server: answers NTP-style requests on `skyvox.clock` with its own clock. */
import type { Subscription } from '@nats-io/nats-core';
import { ClockReply, ClockRequest } from '../../schemas/clock.js';
import type { ActorBehavior } from '../../supervisors/actor.js';
import { nowNs } from '../../supervisors/clock.js';
import type { ActorFactoryContext } from '../../supervisors/registry.js';

/** Factory for the `clock-server` actor kind. Run exactly one per site. */
export function clockServerActor(_f: ActorFactoryContext): ActorBehavior<never> {
  let sub: Subscription | undefined;
  return {
    start(ctx) {
      const bus = ctx.bus!;
      // Answered in the subscription callback, not through the mailbox: queueing would add
      // asymmetric delay between t2 and the reply, which is exactly what must not happen.
      sub = bus.serve(
        ClockRequest,
        ClockReply,
        bus.subjects.clock,
        ({ t1 }) => {
          const t2 = nowNs();
          ctx.stats.msgsIn++;
          ctx.stats.msgsOut++;
          return { t1, t2, t3: nowNs() };
        },
        () => ({ t1: 0n, t2: 0n, t3: 0n }),
      );
    },
    stop() {
      sub?.unsubscribe();
    },
  };
}
