/**
 * The coordinator actor runs on every node that may coordinate; the one holding the lease
 * (bus/lease.ts) places the cluster's actors on live nodes (placement.ts) and writes the
 * orders to the `<prefix>_assign` KV bucket, each stamped with its lease term. It re-checks
 * the lease right before every write, and a node refuses orders of an older term than it has
 * seen, so a coordinator that was paused or cut off cannot act on stale authority.
 */
import type { KV } from '@nats-io/kv';
import { decode, encode } from '../../bus/codec.js';
import { ensureKv } from '../../bus/jetstream.js';
import { KvLease } from '../../bus/lease.js';
import { Assignment, NodePulse } from '../../schemas/cluster.js';
import { CtlReply, CtlRequest } from '../../schemas/ctl.js';
import { type MessageOf, validate } from '../../schemas/message.js';
import { type ActorBehavior, type ActorContext, every } from '../../supervisors/actor.js';
import { nowNs } from '../../supervisors/clock.js';
import { aliveByOwnBeat, openNodesKv, readMembers } from './membership.js';
import { cameraOf, place, type PlacementStrategy, type PlannedActor } from './placement.js';
import { DEFAULT_SILENCE_MS } from './pulse.js';

export type Order = MessageOf<typeof Assignment>;

export interface CoordinatorSettings {
  leaseMs: number;
  /** The nodes' heartbeat interval: placement is reconsidered at least this often. */
  heartbeatMs: number;
  /** Heartbeats that may lapse before a node is dead: also the longest a silent actor is left on a node that says it runs it. */
  missed: number;
  strategy: PlacementStrategy;
  plan: PlannedActor[];
  /** Replicas of the cluster's KV buckets (3 on a 3-server cluster, so they survive a server). */
  replicas: number;
  /** At most one planned move per this period (0: never). */
  rebalanceMs: number;
  /** A node busier than this share of its cores gives an actor away. */
  overloadShare: number;
}

/** The lease bucket: no expiry (the key keeps the term), reads that see the last write. */
export const openClusterKv = (nc: Parameters<typeof ensureKv>[0], bucket: string, replicas = 1, requestTimeoutMs?: number): Promise<KV> => ensureKv(nc, bucket, { history: 1, replicas }, requestTimeoutMs);
/** The orders bucket. */
export const openAssignKv = (nc: Parameters<typeof ensureKv>[0], bucket: string, replicas = 1, requestTimeoutMs?: number): Promise<KV> => ensureKv(nc, bucket, { history: 1, replicas }, requestTimeoutMs);

/** The current orders: actor → order. */
export async function readOrders(kv: KV): Promise<Map<string, Order>> {
  const out = new Map<string, Order>();
  for await (const key of await kv.keys()) {
    const e = await kv.get(key);
    if (!e || e.operation !== 'PUT' || e.length === 0) continue;
    try {
      out.set(key, validate(Assignment, decode(e.value)));
    } catch {
      // An unreadable order is rewritten below like a missing one.
    }
  }
  return out;
}

/**
 * Data-plane liveness of one placed actor, from its node's pulses (pulse.ts): its output
 * stopped while its input flows, or its node stopped pulsing for it, means it is gone
 * (crashed, wedged, or its node died), long before `missed` heartbeats lapse.
 */
interface Watch {
  actor: string;
  silenceMs: number;
  /** When (performance.now() here) a message last reached its input, as its node reported. */
  lastIn: number;
  lastOut: number;
  /** When a pulse last reported it (undefined: none since it was placed). */
  lastPulse?: number;
  /** When it was last (re)placed: a grace period for it to start. */
  placedAt: number;
  /** It has published since it was placed: silence now means it stopped, not that it is still starting. */
  spoke: boolean;
  suspected: boolean;
  /** Since when it has been left in place, silent, because its node answered that it runs it. */
  keptSince?: number;
}

/** Heartbeats the first placement of a new cluster waits for its nodes to show up. */
const SETTLE_HEARTBEATS = 2;

/** Until an actor first speaks it may still be starting (creating streams, restoring state): a longer grace. */
const STARTUP_GRACE_SILENCES = 20;

/** How long the coordinator waits for a suspected actor's node to answer (ms; at most half its silence). */
const CONFIRM_TIMEOUT_MS = 250;

/** Its output has stopped while its input flows. */
const outputStopped = (w: Watch, now: number) => now - w.lastIn < w.silenceMs / 2 && now - w.lastOut > w.silenceMs;

/** Its node has stopped reporting it: dead, cut off or stalled (the node's answer to `list` tells which). */
const unheard = (w: Watch, now: number) => w.lastPulse !== undefined && now - w.lastPulse > w.silenceMs;

const isSilent = (w: Watch, now: number) => (outputStopped(w, now) || unheard(w, now)) && now - w.placedAt > (w.spoke ? 2 : STARTUP_GRACE_SILENCES) * w.silenceMs;

type MemberLoad = { node: string; alive: boolean; cpu_percent: number; cores: number; actors: { name: string; cost: number }[] };

/**
 * The one move worth making now, if any: a node that joined idle takes the costliest free
 * actor of the node holding the most (at least two); otherwise a node busier than
 * `overloadShare` of its cores gives its costliest free actor to the least loaded node, if
 * that leaves the two further apart no more (no ping-pong).
 */
export function planMove(plan: readonly PlannedActor[], members: readonly MemberLoad[], target: ReadonlyMap<string, string>, overloadShare = 0.85): { actor: string; from: string; to: string } | undefined {
  const moved = planIdleMove(plan, members, target);
  if (moved) return moved;
  const alive = members.filter((m) => m.alive);
  const share = (m: MemberLoad) => m.cpu_percent / 100 / Math.max(1, m.cores);
  const cost = (name: string) => Math.max(0, ...members.flatMap((m) => m.actors.filter((a) => a.name === name).map((a) => a.cost)));
  const src = [...alive].sort((a, b) => share(b) - share(a))[0];
  const dst = [...alive].sort((a, b) => share(a) - share(b))[0];
  if (!src || !dst || src === dst || share(src) <= overloadShare) return undefined;
  const pick = plan.filter((a) => cameraOf(a) === undefined && target.get(a.name) === src.node).sort((a, b) => cost(b.name) - cost(a.name) || a.name.localeCompare(b.name))[0];
  if (!pick) return undefined;
  const c = cost(pick.name);
  const after = [share(src) - c / Math.max(1, src.cores), share(dst) + c / Math.max(1, dst.cores)];
  return after[1]! < after[0]! ? { actor: pick.name, from: src.node, to: dst.node } : undefined;
}

function planIdleMove(plan: readonly PlannedActor[], members: readonly MemberLoad[], target: ReadonlyMap<string, string>): { actor: string; from: string; to: string } | undefined {
  const count = new Map(members.filter((m) => m.alive).map((m) => [m.node, 0]));
  const free = plan.filter((a) => cameraOf(a) === undefined);
  for (const a of free) {
    const n = target.get(a.name);
    if (n !== undefined && count.has(n)) count.set(n, count.get(n)! + 1);
  }
  const idle = [...count].filter(([, c]) => c === 0).map(([n]) => n).sort();
  const [busiest, most] = [...count].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0] ?? ['', 0];
  if (idle.length === 0 || most < 2) return undefined;
  const cost = (name: string) => Math.max(0, ...members.flatMap((m) => m.actors.filter((a) => a.name === name).map((a) => a.cost)));
  const pick = free.filter((a) => target.get(a.name) === busiest).sort((a, b) => cost(b.name) - cost(a.name) || a.name.localeCompare(b.name))[0];
  return pick ? { actor: pick.name, from: busiest, to: idle[0]! } : undefined;
}

/** Builds the coordinator behaviour for `node`. */
export function coordinatorBehavior(node: string, settings: CoordinatorSettings): ActorBehavior<'tick'> {
  let lease: KvLease;
  let nodes: KV;
  let orders: KV;
  let rr = 0;
  let wasHeld = false;
  let heldSince = 0;
  const watches = new Map<string, Watch>();
  let lastMove = performance.now();
  /** Since when the cluster's buckets have not answered, if they do not. */
  let unreachableSince: number | undefined;
  let renewing: Promise<boolean> | undefined;
  /** Whether the store answered the last renewal. */
  let renewed = false;
  /**
   * Renews, takes or observes the lease (true when the store answered). One at a time, and on
   * its own timer besides the placement's ticks: a placement that writes many orders to a slow
   * store (seconds on a loaded machine) must not outlast the lease and hand it to another node.
   */
  const renew = (ctx: ActorContext<'tick'>): Promise<boolean> =>
    (renewing ??= (async () => {
      try {
        await lease.tick();
        return (renewed = true);
      } catch (err) {
        storeDown(ctx, err as Error);
        return (renewed = false);
      } finally {
        if (lease.held !== wasHeld) ctx.log.info({ term: lease.term }, lease.held ? 'coordinator: took the lease' : 'coordinator: lost the lease');
        // A new holder settles a rebalance period before a planned move: another holder may
        // have just moved actors (a failover), and moving them again at once undoes its work.
        if (lease.held && !wasHeld) heldSince = lastMove = performance.now();
        wasHeld = lease.held;
        renewing = undefined;
      }
    })());
  return {
    async start(ctx) {
      const bus = ctx.bus!;
      const now = performance.now();
      for (const a of settings.plan) {
        if (!a.liveness) continue;
        watches.set(a.name, { actor: a.name, silenceMs: a.liveness.silence_ms ?? DEFAULT_SILENCE_MS, lastIn: -Infinity, lastOut: now, placedAt: now, spoke: false, suspected: false });
      }
      /** A node's pulse: what its watched actors last received and published. */
      const heard = (pulse: MessageOf<typeof NodePulse>) => {
        const t = performance.now();
        for (const a of pulse.actors) {
          const w = watches.get(a.name);
          if (!w) continue;
          w.lastPulse = t;
          if (a.input_age_ms !== null) w.lastIn = Math.max(w.lastIn, t - a.input_age_ms);
          // Kept in place while silent: once it speaks, or its input stops (idle, not wedged), a later silence starts afresh.
          if (a.output_age_ms !== null && t - a.output_age_ms > w.lastOut) Object.assign(w, { lastOut: t - a.output_age_ms, spoke: true, keptSince: undefined });
          if (t - w.lastIn >= w.silenceMs / 2) w.keptSince = undefined;
        }
      };
      if (watches.size > 0) {
        const sub = bus.subscribe(NodePulse, bus.subjects.pulseAll, heard);
        ctx.signal.addEventListener('abort', () => sub.unsubscribe(), { once: true });
        const checkMs = Math.max(10, Math.min(100, ...[...watches.values()].map((w) => w.silenceMs / 5)));
        let checkedAt = performance.now();
        every(ctx, checkMs, () => {
          const t = performance.now();
          // This process itself was held up (a collection, a starved CPU): the pulses that came
          // meanwhile are still queued behind this timer, so silence now says nothing.
          const late = t - checkedAt > Math.min(...[...watches.values()].map((w) => w.silenceMs)) / 2;
          checkedAt = t;
          if (late) return;
          for (const w of watches.values()) {
            if (!w.suspected && isSilent(w, t)) {
              w.suspected = true;
              if (lease?.held) ctx.send('tick');
            }
          }
        });
      }
      // Every request (the lease's and placement's) times out within half a lease: one lost reply,
      // or one hung during an election, must not keep the coordinator from renewing its lease.
      const requestMs = Math.max(100, Math.floor(settings.leaseMs / 2));
      const clusterKv = await openClusterKv(bus.nc, bus.subjects.kv.cluster, settings.replicas, requestMs);
      nodes = await openNodesKv(bus.nc, bus.subjects.kv.nodes, settings.replicas, requestMs);
      orders = await openAssignKv(bus.nc, bus.subjects.kv.assign, settings.replicas, requestMs);
      lease = new KvLease(clusterKv, 'coordinator', node, settings.leaseMs);
      const period = Math.max(20, Math.floor(Math.min(settings.leaseMs / 3, settings.heartbeatMs)));
      void renew(ctx);
      every(ctx, period, () => void renew(ctx));
      ctx.send('tick');
      every(ctx, period, () => ctx.send('tick'));
    },
    async handle(_tick, ctx) {
      // The lease as the renewal loop left it (waiting for one in flight).
      let reachable = renewing ? await renewing : renewed;
      if (lease.held && reachable) {
        try {
          await assign(ctx);
        } catch (err) {
          reachable = false;
          storeDown(ctx, err as Error);
        }
      }
      if (reachable) storeUp(ctx);
    },
    async stop() {
      // A renewal in flight could otherwise take the lease back after it is given up.
      await renewing;
      await lease?.release();
    },
  };

  /** The cluster's buckets stopped answering (JetStream electing a leader, 1–8 s on 2.9): said once per outage. */
  function storeDown(ctx: ActorContext<'tick'>, err: Error): void {
    if (unreachableSince !== undefined) return;
    unreachableSince = performance.now();
    ctx.log.warn({ err: err.message }, 'coordinator: cluster state not reachable; placement waits for it');
  }

  /** They answer again. */
  function storeUp(ctx: ActorContext<'tick'>): void {
    if (unreachableSince === undefined) return;
    ctx.log.info({ unreachable_ms: Math.round(performance.now() - unreachableSince) }, 'coordinator: cluster state reachable again');
    unreachableSince = undefined;
  }

  /** Reads members and orders, writes the orders that differ from the placement, then rebalances. */
  async function assign(ctx: ActorContext<'tick'>): Promise<void> {
    const now = performance.now();
    const members = aliveByOwnBeat(await readMembers(nodes), node);
    const current = await readOrders(orders);
    // A cluster starting up (no orders yet): nodes started together are seen after a
    // heartbeat or two; placing at once would put everything on the first one up.
    if (current.size === 0 && now - heldSince < settings.heartbeatMs * SETTLE_HEARTBEATS) return;
    // Nothing is moved until the first placement's actors have run a rebalance period: moves go by measured cost.
    if (current.size === 0) lastMove = now;
    const alive = new Set(members.filter((m) => m.alive).map((m) => m.node));
    const stay = new Map([...current].filter(([, o]) => alive.has(o.node)).map(([a, o]) => [a, o.node]));
    const avoid = new Map<string, string>();
    for (const w of watches.values()) {
      const on = current.get(w.actor)?.node;
      if (!w.suspected || on === undefined) continue;
      if (await keepOn(ctx, w, on)) continue;
      const t = performance.now();
      const why = unheard(w, t) ? `its node has not reported it for ${Math.round(t - w.lastPulse!)} ms` : 'output silent while input flows';
      ctx.log.warn({ actor: w.actor, node: on, silent_ms: Math.round(t - w.lastOut), kept_ms: w.keptSince === undefined ? undefined : Math.round(t - w.keptSince) }, `coordinator: ${why}; moving it`);
      stay.delete(w.actor);
      avoid.set(w.actor, on);
    }
    const target = place(settings.plan, members, stay, settings.strategy, rr, avoid);
    rr++;
    for (const spec of settings.plan) {
      const want = target.get(spec.name);
      const cur = current.get(spec.name);
      if (want === undefined) continue;
      if (cur && cur.node === want && cur.term === lease.term) continue;
      // Authority is checked at the last moment: a paused coordinator wakes up without it.
      const term = lease.term;
      if (term === undefined) return;
      const order: Order = { actor: spec.name, node: want, term, t_ns: nowNs(), spec: { name: spec.name, kind: spec.kind, ...(spec.restart ? { restart: spec.restart } : {}), ...(spec.options ? { options: spec.options } : {}) } };
      await orders.put(spec.name, encode(validate(Assignment, order)));
      const w = watches.get(spec.name);
      if (w && cur?.node !== want) Object.assign(w, { placedAt: performance.now(), lastOut: performance.now(), lastPulse: undefined, spoke: false, suspected: false, keptSince: undefined });
      if (cur?.node !== want) ctx.log.info({ actor: spec.name, node: want, from: cur?.node, term }, 'coordinator: placed');
      // A failover's moves count as moves: the cluster settles a rebalance period before a
      // planned one (which right after a failover moved the restarted tracker again).
      if (cur && cur.node !== want) lastMove = performance.now();
    }
    await rebalance(ctx, members, target);
  }

  /**
   * A silent actor whose node answers, over core NATS, that it runs it is left there (its
   * output may be held up by a reconnect, a backlog or invalid input, and a move during a
   * JetStream election would stall its successor's start) — for at most a death period.
   * A dead node cannot answer: no responders come back at once and the move goes ahead.
   */
  async function keepOn(ctx: ActorContext<'tick'>, w: Watch, node: string): Promise<boolean> {
    const now = performance.now();
    if (w.keptSince !== undefined && now - w.keptSince >= settings.missed * settings.heartbeatMs) return false;
    let runs = false;
    try {
      const r = await ctx.bus!.request(CtlRequest, CtlReply, ctx.bus!.subjects.ctl(node), { cmd: 'list' }, Math.max(20, Math.min(CONFIRM_TIMEOUT_MS, w.silenceMs / 2)));
      runs = r.ok && (r.actors ?? []).some((a) => a.name === w.actor && a.status === 'running');
    } catch {
      return false;
    }
    if (!runs) return false;
    if (w.keptSince === undefined) ctx.log.info({ actor: w.actor, node, silent_ms: Math.round(now - w.lastOut) }, `coordinator: ${unheard(w, now) ? 'not reported by its node' : 'output silent'} but its node runs it; leaving it there for now`);
    // Suspected again after another silence period, if it stays silent.
    Object.assign(w, { keptSince: w.keptSince ?? now, suspected: false, lastOut: now, lastPulse: w.lastPulse === undefined ? undefined : now });
    return true;
  }

  /** One planned move per `rebalanceMs`; a kind that can is handed over without a gap (the order names the old node). */
  async function rebalance(ctx: ActorContext<'tick'>, members: Awaited<ReturnType<typeof readMembers>>, target: ReadonlyMap<string, string>): Promise<void> {
    if (settings.rebalanceMs <= 0 || performance.now() - lastMove < settings.rebalanceMs) return;
    if ([...watches.values()].some((w) => w.suspected)) return;
    const move = planMove(settings.plan, members, target, settings.overloadShare);
    const term = lease.term;
    if (!move || term === undefined) return;
    const spec = settings.plan.find((a) => a.name === move.actor)!;
    const order: Order = { actor: spec.name, node: move.to, term, t_ns: nowNs(), ...(spec.handover ? { handover_from: move.from } : {}), spec: { name: spec.name, kind: spec.kind, ...(spec.restart ? { restart: spec.restart } : {}), ...(spec.options ? { options: spec.options } : {}) } };
    await orders.put(spec.name, encode(validate(Assignment, order)));
    lastMove = performance.now();
    const w = watches.get(spec.name);
    if (w) Object.assign(w, { placedAt: performance.now(), lastOut: performance.now(), lastPulse: undefined, spoke: false, suspected: false, keptSince: undefined });
    ctx.log.info({ ...move, term }, 'coordinator: rebalancing (planned move with handover)');
  }
}
