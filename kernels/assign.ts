/**
 * Sparse optimal assignment: the feasible (row, column, cost) pairs are split into clusters
 * that share no row or column, and each cluster is solved exactly with Munkres. Gated
 * association problems are mostly tiny clusters, so this is near linear in the pairs instead of
 * cubic in the rows.
 */
import { munkres } from 'munkres';

export interface Edge {
  row: number;
  col: number;
  cost: number;
}

/** Minimum-cost assignment over the given feasible edges: row → column. */
export function assignSparse(edges: readonly Edge[]): Map<number, number> {
  const out = new Map<number, number>();
  if (edges.length === 0) return out;
  // Union–find over rows (keys 2r) and columns (keys 2c + 1).
  const parent = new Map<number, number>();
  const find = (k: number): number => {
    let r = k;
    while (parent.get(r)! !== r) r = parent.get(r)!;
    let x = k;
    while (x !== r) {
      const next = parent.get(x)!;
      parent.set(x, r);
      x = next;
    }
    return r;
  };
  for (const e of edges) {
    const a = 2 * e.row;
    const b = 2 * e.col + 1;
    if (!parent.has(a)) parent.set(a, a);
    if (!parent.has(b)) parent.set(b, b);
    const [ra, rb] = [find(a), find(b)];
    if (ra !== rb) parent.set(ra, rb);
  }
  const clusters = new Map<number, Edge[]>();
  for (const e of edges) {
    const r = find(2 * e.row);
    const list = clusters.get(r);
    if (list) list.push(e);
    else clusters.set(r, [e]);
  }
  const INFEASIBLE = 1e12;
  for (const list of clusters.values()) {
    if (list.length === 1) {
      out.set(list[0]!.row, list[0]!.col);
      continue;
    }
    const rows = [...new Set(list.map((e) => e.row))];
    const cols = [...new Set(list.map((e) => e.col))];
    const ri = new Map(rows.map((r, i) => [r, i]));
    const ci = new Map(cols.map((c, i) => [c, i]));
    const cost = rows.map(() => cols.map(() => INFEASIBLE));
    for (const e of list) {
      const row = cost[ri.get(e.row)!]!;
      const c = ci.get(e.col)!;
      row[c] = Math.min(row[c]!, e.cost);
    }
    for (const [r, c] of munkres(cost)) if (cost[r]![c]! < INFEASIBLE) out.set(rows[r]!, cols[c]!);
  }
  return out;
}
