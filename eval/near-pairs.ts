/**
 * Pairs of 3D points within a distance, through a grid of cells that size: only the 27 cells
 * around a point can hold its partners. A crowded frame (hundreds of objects and tracks)
 * costs about its close pairs instead of every object against every track.
 */
type P3 = readonly [number, number, number] | readonly number[];

/** Index pairs (i into `a`, j into `b`) no further apart than `r`, ordered by i then j. */
export function nearPairs(a: readonly P3[], b: readonly P3[], r: number): [number, number][] {
  const out: [number, number][] = [];
  if (!(r > 0) || a.length === 0 || b.length === 0) return out;
  const cell = (v: number) => Math.floor(v / r);
  // Cells by (x, y) then z: exact integer keys without strings.
  const grid = new Map<number, Map<number, number[]>>();
  const xy = (x: number, y: number) => x * 4194304 + y;
  b.forEach((p, j) => {
    const k = xy(cell(p[0]!), cell(p[1]!));
    let col = grid.get(k);
    if (!col) grid.set(k, (col = new Map()));
    const z = cell(p[2]!);
    const list = col.get(z);
    if (list) list.push(j);
    else col.set(z, [j]);
  });
  const found: number[] = [];
  a.forEach((p, i) => {
    const [cx, cy, cz] = [cell(p[0]!), cell(p[1]!), cell(p[2]!)];
    found.length = 0;
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        const col = grid.get(xy(cx + dx, cy + dy));
        if (!col) continue;
        for (let dz = -1; dz <= 1; dz++) {
          for (const j of col.get(cz + dz) ?? []) {
            const q = b[j]!;
            if (Math.hypot(p[0]! - q[0]!, p[1]! - q[1]!, p[2]! - q[2]!) <= r) found.push(j);
          }
        }
      }
    }
    found.sort((x, y) => x - y);
    for (const j of found) out.push([i, j]);
  });
  return out;
}
