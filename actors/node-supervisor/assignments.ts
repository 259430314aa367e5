/**
 * The assignments actor: watches the coordinator's orders (`<prefix>_assign`) and the lease,
 * and starts on this node the actors ordered here, stopping those ordered elsewhere. An order
 * whose term is older than the newest term seen starts nothing (refused and counted): a deposed
 * coordinator's late orders cannot add an incarnation. It still stops the actor here, since it
 * may be the last word on it that this node read late.
 */
import type { KV, KvWatchEntry } from '@nats-io/kv';
import { ensureKv, withJetStreamRetry } from '../../bus/jetstream.js';
import { decode } from '../../bus/codec.js';
import { Assignment, CoordinatorLease } from '../../schemas/cluster.js';
import { validate } from '../../schemas/message.js';
import type { ActorBehavior, ActorContext } from '../../supervisors/actor.js';
import type { ActorConfig } from './config.js';
import { openAssignKv, openClusterKv, type Order } from './coordinator.js';
import { initialPlacement, nextPlacement, type PlacementEvent, type PlacementSnapshot, placementState, runningPlacement } from './placement-machine.js';

/** What the node lets the assignments actor do. */
export interface AssignedActors {
  /** Starts `spec` here; `placedNs` is its order's time (ActorFactoryContext.placedNs). */
  start(spec: ActorConfig, handoverFrom?: string, placedNs?: bigint): Promise<void>;
  stop(name: string): Promise<void>;
  running(): string[];
  /** The node's pause fence: reopened once the orders were re-read after a pause. */
  fence?: { confirm(): void; onPause(recheck: () => void): void };
}

type Event = { kind: 'order'; entry: KvWatchEntry } | { kind: 'lease'; entry: KvWatchEntry } | { kind: 'recheck' };

/** Builds the assignments behaviour for `node`. */
export function assignmentsBehavior(node: string, host: AssignedActors, replicas = 1, handoverWaitMs = 3000): ActorBehavior<Event> {
  let newestTerm = 0;
  const stoppers: (() => void)[] = [];
  let orders: KV;
  let cluster: KV;
  const placements = new Map<string, PlacementSnapshot>();
  let state: KV;
  /** Reads the coordinator lease now and remembers its term if it is the newest seen; on failure the last term seen stands. */
  const readLease = async (ctx: ActorContext<Event>): Promise<void> => {
    try {
      const lease = await withJetStreamRetry(() => cluster.get('coordinator'));
      if (lease && lease.operation === 'PUT' && lease.length > 0) newestTerm = Math.max(newestTerm, validate(CoordinatorLease, decode(lease.value)).term);
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message, newest: newestTerm }, 'assignments: the lease could not be read; going by the newest term seen');
    }
  };
  /** Waits (up to `handoverWaitMs`) for `<actor>.standby` in the state bucket to name `to`. */
  const awaitStandby = async (ctx: ActorContext<Event>, actor: string, to: string): Promise<void> => {
    const until = performance.now() + handoverWaitMs;
    while (performance.now() < until) {
      const e = await state.get(`${actor}.standby`).catch(() => null);
      if (e && e.operation === 'PUT' && e.length > 0 && (decode(e.value) as { node?: string }).node === to) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    ctx.log.warn({ actor, to, waited_ms: handoverWaitMs }, 'assignments: the new incarnation did not stand by in time; stopping anyway');
  };
  /** Feeds one event to the actor's placement machine and performs what the new state asks for. */
  const drive = async (ctx: ActorContext<Event>, actor: string, event: PlacementEvent, spec?: ActorConfig, handoverFrom?: string, placedNs?: bigint): Promise<void> => {
    let s = placements.get(actor) ?? initialPlacement();
    // It ran here but its supervisor gave it up (or restarted empty): it is unassigned again.
    if (placementState(s) === 'running' && !host.running().includes(actor)) s = initialPlacement();
    else if (placementState(s) === 'unassigned' && host.running().includes(actor)) s = runningPlacement();
    const before = placementState(s);
    s = nextPlacement(s, event);
    const now = placementState(s);
    if (now !== before) ctx.log.info({ actor, from: before, to: now }, 'assignments: placement');
    if (now === 'starting') {
      try {
        await host.start(spec!, handoverFrom, placedNs);
        s = nextPlacement(s, { type: 'STARTED' });
      } catch (err) {
        ctx.log.error({ actor, err: (err as Error).message }, 'assignments: the ordered actor failed to start');
        s = nextPlacement(s, { type: 'START_FAILED' });
      }
    } else if (now === 'migrating') {
      await host.stop(actor);
      s = nextPlacement(s, { type: 'STOPPED' });
    }
    placements.set(actor, s);
  };
  return {
    async start(ctx) {
      const bus = ctx.bus!;
      host.fence?.onPause(() => ctx.send({ kind: 'recheck' }));
      orders = await openAssignKv(bus.nc, bus.subjects.kv.assign, replicas);
      state = await ensureKv(bus.nc, bus.subjects.kv.state, { history: 1, replicas });
      cluster = await openClusterKv(bus.nc, bus.subjects.kv.cluster, replicas);
      const watch = async (kv: typeof orders, kind: Event['kind'], key?: string) => {
        const w = await kv.watch(key ? { key } : {});
        stoppers.push(() => w.stop());
        void (async () => {
          for await (const entry of w) ctx.send({ kind, entry });
        })().catch((err: Error) => ctx.fail(err));
      };
      await watch(cluster, 'lease', 'coordinator');
      await watch(orders, 'order');
    },
    async handle(ev, ctx) {
      if (ev.kind === 'recheck') {
        // After a pause: the current lease and orders, read fresh, decide what still runs here.
        await readLease(ctx);
        for (const name of host.running()) {
          const e = await withJetStreamRetry(() => orders.get(name));
          const order = e && e.operation === 'PUT' && e.length > 0 ? validate(Assignment, decode(e.value)) : undefined;
          if (!order || order.node !== node) {
            ctx.log.info({ actor: name, to: order?.node }, 'assignments: moved while this node was paused; stopping');
            await drive(ctx, name, { type: 'ORDER_ELSEWHERE' });
          }
        }
        host.fence?.confirm();
        return;
      }
      const e = ev.entry;
      if (ev.kind === 'lease') {
        if (e.operation === 'PUT' && e.length > 0) {
          try {
            newestTerm = Math.max(newestTerm, validate(CoordinatorLease, decode(e.value)).term);
          } catch (err) {
            ctx.log.warn({ err: (err as Error).message }, 'assignments: unreadable lease');
          }
        }
        return;
      }
      if (e.operation !== 'PUT' || e.length === 0) {
        await drive(ctx, e.key, { type: 'ORDER_ELSEWHERE' });
        return;
      }
      let order: Order;
      try {
        order = validate(Assignment, decode(e.value));
      } catch (err) {
        ctx.stats.invalid++;
        ctx.log.warn({ key: e.key, err: (err as Error).message }, 'assignments: unreadable order refused');
        return;
      }
      // The lease as it stands now, not only as its watch last delivered it: the lease and the
      // orders are two independent watches, and an order can overtake the lease that deposed
      // its writer. Orders are rare; one read each is cheap.
      await readLease(ctx);
      if (order.term < newestTerm) {
        // An older term may still be the latest word on this actor: written before its writer
        // was deposed and read late (this node was stalled). Leaving obeys it at no risk — two
        // incarnations are worse than a gap the current coordinator closes on its next tick,
        // when it re-issues every order under its own term — but starting on it is refused.
        if (order.node !== node && host.running().includes(order.actor)) {
          ctx.log.warn({ actor: order.actor, node: order.node, term: order.term, newest: newestTerm }, 'assignments: an older term places this actor elsewhere; stopping it here');
          await drive(ctx, order.actor, { type: 'ORDER_ELSEWHERE' });
          return;
        }
        ctx.stats.dropped++;
        ctx.log.warn({ actor: order.actor, node: order.node, term: order.term, newest: newestTerm }, 'assignments: order from a deposed coordinator refused');
        return;
      }
      newestTerm = order.term;
      if (order.node === node) await drive(ctx, order.actor, { type: 'ORDER_HERE' }, { ...order.spec, restart: (order.spec.restart as ActorConfig['restart']) ?? 'permanent' }, order.handover_from, order.t_ns);
      else {
        // A planned move away from here: keep running until the new incarnation stands by
        // (it has subscribed and buffers), so no input falls between the two.
        if (order.handover_from === node && host.running().includes(order.actor)) await awaitStandby(ctx, order.actor, order.node);
        await drive(ctx, order.actor, { type: 'ORDER_ELSEWHERE' });
      }
    },
    stop() {
      for (const s of stoppers.splice(0)) s();
    },
  };
}
