/**
 * Where the coordinator puts each cluster actor. Pure functions of the live members and the
 * current assignments, so every rule is testable without a cluster.
 */
import type { Heartbeat } from './membership.js';

/** Cores an actor of a kind no node has measured yet is assumed to take. */
export const UNMEASURED_COST = 0.05;

export const PLACEMENT_STRATEGIES = ['load', 'least-loaded', 'round-robin'] as const;
export type PlacementStrategy = (typeof PLACEMENT_STRATEGIES)[number];

/** A cluster actor to place: its spec, and the camera it belongs to if any. */
export interface PlannedActor {
  name: string;
  kind: string;
  restart?: string;
  options?: Record<string, unknown>;
  liveness?: { input: string; output: string; silence_ms?: number };
  /** Its kind takes over a running incarnation's state without a gap (registry capability). */
  handover?: boolean;
}

/** The camera an actor is bound to (options.camera), if any: it runs where that camera is wired. */
export const cameraOf = (a: PlannedActor): string | undefined => (typeof a.options?.camera === 'string' ? a.options.camera : undefined);

/**
 * Assigns every planned actor to a live node: an actor stays where it is while that node
 * lives; a camera's actor goes to the node that declares the camera (or nowhere, if that node
 * is down); the rest go by `strategy`. Returns actor → node (absent: cannot be placed now).
 */
export function place(
  plan: readonly PlannedActor[],
  members: readonly (Heartbeat & { alive: boolean })[],
  current: ReadonlyMap<string, string>,
  strategy: PlacementStrategy,
  rrStart = 0,
  /** actor → a node it just failed on: placed elsewhere when another node lives. */
  avoid: ReadonlyMap<string, string> = new Map(),
): Map<string, string> {
  const alive = members.filter((m) => m.alive);
  const out = new Map<string, string>();
  // Load per node in cores busy: its process CPU plus what this placement adds; compared per core.
  const load = new Map(alive.map((m) => [m.node, m.cpu_percent / 100]));
  const count = new Map(alive.map((m) => [m.node, 0]));
  // An actor never measured is taken to cost what the measured actors of its kind cost on
  // average (a fusion actor restarted after its node died weighs what its siblings weigh);
  // only a kind nobody has measured yet gets the small default.
  const byKind = new Map<string, { sum: number; n: number }>();
  for (const m of members) {
    for (const a of m.actors) {
      const k = byKind.get(a.kind) ?? { sum: 0, n: 0 };
      byKind.set(a.kind, { sum: k.sum + a.cost, n: k.n + 1 });
    }
  }
  const measured = (planned: PlannedActor) => members.some((m) => m.actors.some((a) => a.name === planned.name)) || byKind.has(planned.kind);
  const costOf = (planned: PlannedActor) => {
    for (const m of members) for (const a of m.actors) if (a.name === planned.name) return Math.max(a.cost, 0.01);
    const k = byKind.get(planned.kind);
    return k ? Math.max(k.sum / k.n, 0.01) : UNMEASURED_COST;
  };
  // Actors of each kind per node, for kinds nobody has measured: at a cold start nodes' CPU
  // readings are start-up noise larger than any default cost, so those kinds are spread evenly
  // (per core) instead of all going to whichever node happened to read lowest.
  const ofKind = new Map<string, number>();
  const kindKey = (node: string, kind: string) => `${node}\u0000${kind}`;
  const take = (actor: string, node: string, kind: string) => {
    out.set(actor, node);
    count.set(node, (count.get(node) ?? 0) + 1);
    ofKind.set(kindKey(node, kind), (ofKind.get(kindKey(node, kind)) ?? 0) + 1);
  };
  // Actors that stay put first, so the free choices see the real load.
  const free: PlannedActor[] = [];
  for (const a of plan) {
    const cam = cameraOf(a);
    const owner = cam === undefined ? undefined : alive.find((m) => m.cameras.includes(cam));
    if (cam !== undefined) {
      if (owner) take(a.name, owner.node, a.kind);
      continue;
    }
    const here = current.get(a.name);
    if (here !== undefined && load.has(here)) take(a.name, here, a.kind);
    else free.push(a);
  }
  let rr = rrStart;
  for (const a of free) {
    const others = alive.filter((m) => m.node !== avoid.get(a.name));
    const pool = others.length > 0 ? others : alive;
    if (pool.length === 0) break;
    let node: string;
    if (strategy === 'round-robin') node = pool[rr++ % pool.length]!.node;
    else if (strategy === 'least-loaded') node = [...pool].sort((x, y) => count.get(x.node)! - count.get(y.node)! || x.node.localeCompare(y.node))[0]!.node;
    else {
      const cost = costOf(a);
      const perCore = (m: (typeof pool)[number]) => load.get(m.node)! / Math.max(1, m.cores);
      const spread = (m: (typeof pool)[number]) => (measured(a) ? 0 : (ofKind.get(kindKey(m.node, a.kind)) ?? 0) / Math.max(1, m.cores));
      node = [...pool].sort((x, y) => spread(x) - spread(y) || perCore(x) - perCore(y) || x.node.localeCompare(y.node))[0]!.node;
      load.set(node, load.get(node)! + cost);
    }
    take(a.name, node, a.kind);
  }
  return out;
}
