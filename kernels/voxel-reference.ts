/**
 * Sparse voxel voting in plain TypeScript: the reference the native kernel is tested against.
 * It mirrors native/src/voxel.cpp step for step (the same marching, budget, eviction order,
 * peak rules and refinement), in double precision with float32 weights as there.
 */
import { KernelArgumentError } from './motion-params.js';
import { checkRays, type RayBatch, type VoxelOutput, type VoxelParams, type VoxelPeak, voxelParams } from './voxel-params.js';

const B = 8;
const BV = B * B * B;
/** What one brick costs against the budget on the native side (sizeof(Brick) + map overhead). */
export const BRICK_BYTES = 8272; // checked against the addon's voxelBrickBytes by test/voxel.test.ts
const fr = Math.fround;

interface Brick {
  level: number;
  b: [number, number, number];
  w: Float32Array;
  maskLo: Uint32Array;
  maskHi: Uint32Array;
  frame: Uint32Array;
  lastFrame: number;
}

interface Ray {
  o: [number, number, number];
  d: [number, number, number];
  w: number;
  cam: number;
}

const key = (l: number, bx: number, by: number, bz: number) => `${l}/${bx}/${by}/${bz}`;
const popcount = (x: number) => {
  let n = 0;
  for (let v = x >>> 0; v; v &= v - 1) n++;
  return n;
};

/** Voxel voting (reference implementation). */
export class VoxelReference {
  readonly params: VoxelParams;
  readonly #levels: number;
  readonly #cells: [number, number, number];
  readonly #levelMap: Uint8Array;
  readonly #bricks = new Map<string, Brick>(); // insertion order is the LRU order
  #frameBricks: string[] = [];
  #frame = 1000; // past the decay horizon: a stamp of 0 means never hit (as native)
  readonly #decayPow: number[] = [];
  readonly #maxBricks: number;
  #steps = 0;
  #evicted = 0;
  #lost = 0;
  #cachedKey: string | undefined;
  #cached: Brick | undefined;

  constructor(params: Partial<VoxelParams> = {}) {
    const p = (this.params = voxelParams(params));
    this.#levels = 1 + Math.floor(Math.log2(p.maxVoxel / p.minVoxel) + 1e-9);
    this.#cells = [0, 1, 2].map((a) => Math.ceil((p.worldBox[a + 3]! - p.worldBox[a]!) / p.cell)) as [number, number, number];
    this.#levelMap = new Uint8Array(this.#cells[0] * this.#cells[1] * this.#cells[2]);
    this.#maxBricks = Math.max(1, Math.floor(p.memoryBudget / BRICK_BYTES));
    for (let w = 1; w > 1e-6 && this.#decayPow.length < 64; w *= p.decay) this.#decayPow.push(w);
    this.setCameras([]);
  }

  #size(level: number): number {
    return this.params.minVoxel * 2 ** level;
  }

  /** Camera centres (ENU m) set the level of detail. */
  setCameras(centres: readonly (readonly [number, number, number])[]): void {
    const p = this.params;
    const [nx, ny, nz] = this.#cells;
    for (let z = 0; z < nz; z++)
      for (let y = 0; y < ny; y++)
        for (let x = 0; x < nx; x++) {
          const c = [p.worldBox[0] + (x + 0.5) * p.cell, p.worldBox[1] + (y + 0.5) * p.cell, p.worldBox[2] + (z + 0.5) * p.cell];
          let r = centres.length ? Infinity : 0;
          for (const o of centres) r = Math.min(r, Math.sqrt((c[0]! - o[0]) ** 2 + (c[1]! - o[1]) ** 2 + (c[2]! - o[2]) ** 2));
          const want = Math.min(p.maxVoxel, Math.max(p.minVoxel, r * p.lodRatio));
          this.#levelMap[(z * ny + y) * nx + x] = Math.min(this.#levels - 1, Math.max(0, Math.floor(Math.log2(want / p.minVoxel) + 1e-9)));
        }
  }

  #decayed(b: Brick, v: number): number {
    const age = this.#frame - b.frame[v]!;
    if (age === 0) return b.w[v]!;
    return age < this.#decayPow.length ? fr(b.w[v]! * this.#decayPow[age]!) : 0;
  }

  #brick(level: number, bx: number, by: number, bz: number): Brick | undefined {
    const k = key(level, bx, by, bz);
    const found = this.#bricks.get(k);
    if (found) {
      if (found.lastFrame !== this.#frame) {
        found.lastFrame = this.#frame;
        this.#bricks.delete(k);
        this.#bricks.set(k, found);
        this.#frameBricks.push(k);
      }
      return found;
    }
    if (this.#bricks.size >= this.#maxBricks) {
      const [victim, vb] = this.#bricks.entries().next().value as [string, Brick];
      if (vb.lastFrame === this.#frame) return undefined;
      this.#bricks.delete(victim);
      this.#evicted++;
      if (victim === this.#cachedKey) this.#cachedKey = undefined;
    }
    const b: Brick = { level, b: [bx, by, bz], w: new Float32Array(BV), maskLo: new Uint32Array(BV), maskHi: new Uint32Array(BV), frame: new Uint32Array(BV), lastFrame: this.#frame };
    this.#bricks.set(k, b);
    this.#frameBricks.push(k);
    return b;
  }

  #vote(level: number, ix: number, iy: number, iz: number, weight: number, cam: number): void {
    const [bx, by, bz] = [Math.floor(ix / 8), Math.floor(iy / 8), Math.floor(iz / 8)];
    const k = key(level, bx, by, bz);
    const b = k === this.#cachedKey ? this.#cached : this.#brick(level, bx, by, bz);
    this.#cachedKey = b ? k : undefined;
    this.#cached = b;
    if (!b) {
      this.#lost++;
      return;
    }
    const v = ((iz & 7) * B + (iy & 7)) * B + (ix & 7);
    if (b.frame[v] !== this.#frame) {
      b.w[v] = this.#decayed(b, v);
      b.maskLo[v] = 0;
      b.maskHi[v] = 0;
      b.frame[v] = this.#frame;
    }
    b.w[v] = fr(b.w[v]! + weight);
    if (cam < 32) b.maskLo[v] = (b.maskLo[v]! | (1 << cam)) >>> 0;
    else b.maskHi[v] = (b.maskHi[v]! | (1 << (cam - 32))) >>> 0;
  }

  #clip(r: Ray): [number, number] | undefined {
    const p = this.params;
    let t0 = 0;
    let t1 = p.maxRange;
    for (let a = 0; a < 3; a++) {
      if (Math.abs(r.d[a]!) < 1e-15) {
        if (r.o[a]! < p.worldBox[a]! || r.o[a]! >= p.worldBox[a + 3]!) return undefined;
        continue;
      }
      let ta = (p.worldBox[a]! - r.o[a]!) / r.d[a]!;
      let tb = (p.worldBox[a + 3]! - r.o[a]!) / r.d[a]!;
      if (ta > tb) [ta, tb] = [tb, ta];
      t0 = Math.max(t0, ta);
      t1 = Math.min(t1, tb);
    }
    return t0 < t1 ? [t0, t1] : undefined;
  }

  /** Grid traversal set-up along `r` from `tm` with cell size `s` (Amanatides–Woo). */
  #dda(r: Ray, tm: number, s: number, clampTo?: [number, number, number]) {
    const idx = [0, 0, 0];
    const tmax = [0, 0, 0];
    const tdelta = [0, 0, 0];
    const step = [0, 0, 0];
    for (let a = 0; a < 3; a++) {
      const pa = r.o[a]! + r.d[a]! * tm - this.params.worldBox[a]!;
      idx[a] = Math.floor(pa / s);
      if (clampTo) idx[a] = Math.min(clampTo[a]! - 1, Math.max(0, idx[a]!));
      if (r.d[a]! > 0) {
        step[a] = 1;
        tmax[a] = tm + ((idx[a]! + 1) * s - pa) / r.d[a]!;
        tdelta[a] = s / r.d[a]!;
      } else if (r.d[a]! < 0) {
        step[a] = -1;
        tmax[a] = tm + (idx[a]! * s - pa) / r.d[a]!;
        tdelta[a] = -s / r.d[a]!;
      } else {
        step[a] = 0;
        tmax[a] = Infinity;
        tdelta[a] = Infinity;
      }
    }
    return { idx, tmax, tdelta, step };
  }

  #march(r: Ray, level: number, t0: number, t1: number): void {
    const s = this.#size(level);
    const tm = t0 + 1e-9 * Math.max(1, t1 - t0);
    const { idx, tmax, tdelta, step } = this.#dda(r, tm, s);
    let t = tm;
    while (t < t1) {
      this.#vote(level, idx[0]!, idx[1]!, idx[2]!, r.w, r.cam);
      this.#steps++;
      const a = tmax[0]! < tmax[1]! ? (tmax[0]! < tmax[2]! ? 0 : 2) : tmax[1]! < tmax[2]! ? 1 : 2;
      t = tmax[a]!;
      idx[a]! += step[a]!;
      tmax[a]! += tdelta[a]!;
    }
  }

  #cast(r: Ray): void {
    const span = this.#clip(r);
    if (!span) return;
    const [t0, t1] = span;
    const [nx, ny] = this.#cells;
    const { idx, tmax, tdelta, step } = this.#dda(r, t0 + 1e-9, this.params.cell, this.#cells);
    let t = t0;
    while (t < t1) {
      const a = tmax[0]! < tmax[1]! ? (tmax[0]! < tmax[2]! ? 0 : 2) : tmax[1]! < tmax[2]! ? 1 : 2;
      const tn = Math.min(t1, tmax[a]!);
      this.#march(r, this.#levelMap[(idx[2]! * ny + idx[1]!) * nx + idx[0]!]!, t, tn);
      t = tmax[a]!;
      idx[a]! += step[a]!;
      tmax[a]! += tdelta[a]!;
      if (idx[a]! < 0 || idx[a]! >= this.#cells[a]!) break;
    }
  }

  #value(level: number, ix: number, iy: number, iz: number): { w: number; lo: number; hi: number } {
    const b = this.#bricks.get(key(level, Math.floor(ix / 8), Math.floor(iy / 8), Math.floor(iz / 8)));
    if (!b) return { w: 0, lo: 0, hi: 0 };
    const v = ((iz & 7) * B + (iy & 7)) * B + (ix & 7);
    const now = b.frame[v] === this.#frame;
    return { w: this.#decayed(b, v), lo: now ? b.maskLo[v]! : 0, hi: now ? b.maskHi[v]! : 0 };
  }

  /** Decays older votes, casts this frameset's rays, and returns the refined peaks. */
  process(batch: RayBatch): VoxelOutput {
    checkRays(batch);
    this.#frame++;
    this.#frameBricks = [];
    this.#cachedKey = undefined;
    this.#steps = 0;
    const rays: Ray[] = Array.from(batch.weights, (w, i) => ({
      o: [batch.origins[3 * i]!, batch.origins[3 * i + 1]!, batch.origins[3 * i + 2]!],
      d: [batch.dirs[3 * i]!, batch.dirs[3 * i + 1]!, batch.dirs[3 * i + 2]!],
      w,
      cam: batch.cameras[i]!,
    }));
    for (const r of rays) this.#cast(r);
    return { peaks: this.#peaks(rays), steps: this.#steps, bricks: this.#bricks.size, bytes: this.#bricks.size * BRICK_BYTES, evicted: this.#evicted, lost: this.#lost };
  }

  #peaks(rays: Ray[]): VoxelPeak[] {
    const p = this.params;
    const out: (VoxelPeak & { voxel: number[] })[] = [];
    for (const k of this.#frameBricks) {
      const b = this.#bricks.get(k);
      if (!b) continue;
      const s = this.#size(b.level);
      for (let v = 0; v < BV; v++) {
        if (b.frame[v] !== this.#frame) continue;
        const w = b.w[v]!;
        // Crossed by rays of two cameras itself (as native), before any neighbour lookup.
        if (w < p.minWeight || popcount(b.maskLo[v]!) + popcount(b.maskHi[v]!) < Math.min(2, p.minCameras)) continue;
        const [ix, iy, iz] = [b.b[0] * B + (v % B), b.b[1] * B + (Math.floor(v / B) % B), b.b[2] * B + Math.floor(v / (B * B))];
        let peak = true;
        let [lo, hi] = [b.maskLo[v]!, b.maskHi[v]!];
        for (let dz = -1; dz <= 1 && peak; dz++)
          for (let dy = -1; dy <= 1 && peak; dy++)
            for (let dx = -1; dx <= 1 && peak; dx++) {
              if (!dx && !dy && !dz) continue;
              const n = this.#value(b.level, ix + dx, iy + dy, iz + dz);
              lo |= n.lo;
              hi |= n.hi;
              const before = dz < 0 || (dz === 0 && (dy < 0 || (dy === 0 && dx < 0)));
              if (n.w > w || (before && n.w === w)) peak = false;
            }
        const cams = popcount(lo) + popcount(hi);
        if (!peak || cams < p.minCameras) continue;
        const c: [number, number, number] = [p.worldBox[0] + (ix + 0.5) * s, p.worldBox[1] + (iy + 0.5) * s, p.worldBox[2] + (iz + 0.5) * s];
        const best = new Array<number>(64).fill(-1);
        const bestd = new Array<number>(64).fill(Infinity);
        rays.forEach((r, k2) => {
          const [ox, oy, oz] = [c[0] - r.o[0], c[1] - r.o[1], c[2] - r.o[2]];
          const t = ox * r.d[0] + oy * r.d[1] + oz * r.d[2];
          if (t <= 0) return;
          const [ex, ey, ez] = [ox - t * r.d[0], oy - t * r.d[1], oz - t * r.d[2]];
          const d = Math.sqrt(ex * ex + ey * ey + ez * ez);
          if (d <= 2 * s * 1.7320508075688772 && d < bestd[r.cam]!) {
            bestd[r.cam] = d;
            best[r.cam] = k2;
          }
        });
        const A = new Array<number>(9).fill(0);
        const bv = [0, 0, 0];
        let used = 0;
        for (let cam = 0; cam < 64; cam++) {
          if (best[cam]! < 0) continue;
          const r = rays[best[cam]!]!;
          const rng = Math.sqrt((c[0] - r.o[0]) ** 2 + (c[1] - r.o[1]) ** 2 + (c[2] - r.o[2]) ** 2);
          const wt = 1 / (p.raySigmaRad * rng * (p.raySigmaRad * rng));
          for (let i = 0; i < 3; i++)
            for (let j = 0; j < 3; j++) {
              const pij = (i === j ? 1 : 0) - r.d[i]! * r.d[j]!;
              A[i * 3 + j]! += wt * pij;
              bv[i]! += wt * pij * r.o[j]!;
            }
          used++;
        }
        const pk = { position: c, covariance: [(s * s) / 12, 0, 0, 0, (s * s) / 12, 0, 0, 0, (s * s) / 12], weight: w, cameras: cams, level: b.level, voxel: [ix, iy, iz], rays: best.filter((k) => k >= 0) };
        const [a0, a1, a2, a3, a4, a5, a6, a7, a8] = A as [number, number, number, number, number, number, number, number, number];
        const det = a0 * (a4 * a8 - a5 * a7) - a1 * (a3 * a8 - a5 * a6) + a2 * (a3 * a7 - a4 * a6);
        if (used >= 2 && Math.abs(det) > 1e-300) {
          const inv = [(a4 * a8 - a5 * a7) / det, (a2 * a7 - a1 * a8) / det, (a1 * a5 - a2 * a4) / det, (a5 * a6 - a3 * a8) / det, (a0 * a8 - a2 * a6) / det, (a2 * a3 - a0 * a5) / det, (a3 * a7 - a4 * a6) / det, (a1 * a6 - a0 * a7) / det, (a0 * a4 - a1 * a3) / det];
          pk.position = [0, 1, 2].map((i) => inv[i * 3]! * bv[0]! + inv[i * 3 + 1]! * bv[1]! + inv[i * 3 + 2]! * bv[2]!) as [number, number, number];
          pk.covariance = inv;
        }
        out.push(pk);
      }
    }
    const lex = (a: number[], b: number[]) => (a[0] !== b[0] ? a[0]! - b[0]! : a[1] !== b[1] ? a[1]! - b[1]! : a[2]! - b[2]!);
    out.sort((a, b) => (a.weight !== b.weight ? b.weight - a.weight : a.cameras !== b.cameras ? b.cameras - a.cameras : a.level !== b.level ? a.level - b.level : lex(a.voxel, b.voxel)));
    const kept: VoxelPeak[] = [];
    for (const pk of out) {
      const dup = kept.some((k) => {
        const lim = Math.max(this.#size(pk.level), this.#size(k.level)) * 1.7320508075688772;
        return (pk.position[0] - k.position[0]) ** 2 + (pk.position[1] - k.position[1]) ** 2 + (pk.position[2] - k.position[2]) ** 2 <= lim * lim;
      });
      if (!dup) kept.push({ position: pk.position, covariance: pk.covariance, weight: pk.weight, cameras: pk.cameras, level: pk.level, rays: pk.rays });
    }
    return kept;
  }
}

export { KernelArgumentError };
