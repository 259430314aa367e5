/**
 * Joint probabilistic data association for tracks whose gates share measurements (crossing
 * targets). Over every feasible joint event of a cluster — each track takes one of its gated
 * measurements or none, no measurement taken twice — the event's weight is the product of
 * Pd·g/λ for each taken measurement (g its Gaussian likelihood, λ the clutter density) and of
 * (1 − Pd·Pg) for each track that takes none. β(t, j) is the share of the weight of the events
 * in which t takes j; each track is then updated with every measurement in proportion (PDA).
 */

export interface JpdaOptions {
  /** Probability a target in view yields a measurement in a scan. */
  pd: number;
  /** Probability a target's measurement falls inside its gate (the gate's χ² mass). */
  pg: number;
  /** Density of false measurements (per m³). */
  clutterDensity: number;
  /** A cluster with more joint events than this is associated by the optimal assignment instead. */
  maxEvents: number;
}

export const DEFAULT_JPDA: JpdaOptions = { pd: 0.9, pg: 0.999, clutterDensity: 1e-6, maxEvents: 20_000 };

/** One track's gated measurements and their likelihoods. */
export type Gated = { m: number; lik: number }[];

/** β per track: [measurement index, probability][] and the probability it took none; undefined when the cluster is too large. */
export interface Association {
  beta: { m: number; p: number }[];
  none: number;
}

/** Counts the cluster's joint events, stopping once past `limit`. */
function countEvents(gated: readonly Gated[], limit: number): number {
  let n = 0;
  const used = new Set<number>();
  const walk = (t: number): void => {
    if (n > limit) return;
    if (t === gated.length) {
      n++;
      return;
    }
    walk(t + 1);
    for (const { m } of gated[t]!) {
      if (used.has(m)) continue;
      used.add(m);
      walk(t + 1);
      used.delete(m);
    }
  };
  walk(0);
  return n;
}

/** The association probabilities of one cluster of tracks (gated[t] lists track t's gated measurements). */
export function jpdaCluster(gated: readonly Gated[], o: JpdaOptions): Association[] | undefined {
  if (countEvents(gated, o.maxEvents) > o.maxEvents) return undefined;
  const miss = 1 - o.pd * o.pg;
  const took = gated.map((g) => new Map(g.map(({ m }) => [m, 0])));
  const none = gated.map(() => 0);
  let total = 0;
  const choice: number[] = [];
  const used = new Set<number>();
  const walk = (t: number, w: number): void => {
    if (t === gated.length) {
      total += w;
      choice.forEach((m, i) => {
        if (m < 0) none[i]! += w;
        else took[i]!.set(m, took[i]!.get(m)! + w);
      });
      return;
    }
    choice[t] = -1;
    walk(t + 1, w * miss);
    for (const { m, lik } of gated[t]!) {
      if (used.has(m)) continue;
      used.add(m);
      choice[t] = m;
      walk(t + 1, (w * o.pd * lik) / o.clutterDensity);
      used.delete(m);
    }
  };
  walk(0, 1);
  return gated.map((_, t) => ({ beta: [...took[t]!].map(([m, w]) => ({ m, p: total > 0 ? w / total : 0 })), none: total > 0 ? none[t]! / total : 1 }));
}

/** Clusters: connected components of tracks linked by a shared gated measurement (lists of track indices). */
export function gateClusters(gated: readonly Gated[]): number[][] {
  const parent = gated.map((_, i) => i);
  const find = (a: number): number => (parent[a] === a ? a : (parent[a] = find(parent[a]!)));
  const owner = new Map<number, number>();
  gated.forEach((g, t) => {
    for (const { m } of g) {
      const o = owner.get(m);
      if (o === undefined) owner.set(m, t);
      else parent[find(t)] = find(o);
    }
  });
  const out = new Map<number, number[]>();
  gated.forEach((_, t) => {
    const r = find(t);
    out.set(r, [...(out.get(r) ?? []), t]);
  });
  return [...out.values()];
}
