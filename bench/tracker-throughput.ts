/**
 * Tracker throughput: scans a second of the tracker stage on one thread over a synthetic sky of
 * N wandering targets — each scan a Measurements message as the voxel stage sends it (points
 * with covariances, some targets by one camera's ray, clutter points), decoded and validated,
 * tracked, and its Tracks message encoded, as the tracker actor does per scan. The same run
 * measures a baseline on the same scans: a nearest-neighbour tracker (no filter, no covariance,
 * greedy association), so the ratio says what the IMM, gating and optimal assignment cost on
 * this machine; and the rate against the scans a second the tracker must keep up with.
 */
import { decode, encode, f64ToBin } from '../bus/codec.js';
import { type TracksMessage, TrackerStage } from '../actors/tracker/tracker-stage.js';
import { Measurements, MEAS_STRIDE, RAY_STRIDE } from '../schemas/measurement.js';
import { validate } from '../schemas/message.js';
import { Tracks } from '../schemas/tracks.js';
import { Rng } from '../sim/rng.js';
import { p50p99 } from '../util/percentiles.js';

export interface TrackerBenchOptions {
  /** Targets in the sky. */
  targets: number;
  /** Scans a second the tracker must keep up with (the rate reported against). */
  scansPerS: number;
  /** Scans timed (after a warm-up of as many as it takes to confirm every track). */
  scans: number;
}

interface Target {
  p: [number, number, number];
  v: [number, number, number];
}

/** The scans of a sky of `n` targets in a 2 × 2 × 0.5 km box at `rate` scans a second, as encoded Measurements messages. */
function synthesizeScans(n: number, count: number, rate: number, seed = 7): Uint8Array[] {
  const rng = new Rng(seed);
  const targets: Target[] = Array.from({ length: n }, () => {
    const speed = rng.uniform(5, 25);
    const heading = rng.uniform(0, 2 * Math.PI);
    return { p: [rng.uniform(-1000, 1000), rng.uniform(-1000, 1000), rng.uniform(50, 550)], v: [speed * Math.cos(heading), speed * Math.sin(heading), rng.uniform(-2, 2)] };
  });
  const eye: [number, number, number] = [0, -1500, 0];
  const dt = 1 / rate;
  const out: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const points: number[] = [];
    const rays: number[] = [];
    for (const t of targets) {
      // Wandering (a random acceleration of 3.5 m/s² rms each scan), turning back at the box's walls.
      for (let a = 0; a < 3; a++) {
        t.v[a] = t.v[a]! + 3.5 * dt * rng.normal();
        const [lo, hi] = a === 2 ? [50, 550] : [-1000, 1000];
        if ((t.p[a]! < lo && t.v[a]! < 0) || (t.p[a]! > hi && t.v[a]! > 0)) t.v[a] = -t.v[a]!;
        t.p[a] = t.p[a]! + t.v[a]! * dt;
      }
      const draw = rng.next();
      if (draw < 0.05) continue; // missed this scan
      if (draw < 0.1) {
        // One camera alone saw it: its ray.
        const d = t.p.map((x, a) => x - eye[a]!);
        const r = Math.hypot(...d);
        rays.push(...eye, ...d.map((x) => x / r), (0.05 / r) ** 2, 1);
        continue;
      }
      const s = [0.02, 0.02, 0.05].map((x) => x * rng.uniform(0.5, 2));
      points.push(...t.p.map((x, a) => x + s[a]! * rng.normal()), s[0]! ** 2, 0, 0, 0, s[1]! ** 2, 0, 0, 0, s[2]! ** 2, 1, 3);
    }
    // Clutter: points of two views where nothing is (ghosts, birds), a tenth as many as targets.
    for (let c = 0; c < Math.ceil(n / 10); c++) points.push(rng.uniform(-1000, 1000), rng.uniform(-1000, 1000), rng.uniform(50, 550), 0.01, 0, 0, 0, 0.01, 0, 0, 0, 0.04, 0.5, 2);
    const t_ns = 1_000_000_000_000n + BigInt(Math.round(k * dt * 1e9));
    const m = { t_ns, count: points.length / MEAS_STRIDE, pairs: ['a', 'b', 'c'], points: f64ToBin(points), ...(rays.length ? { ray_count: rays.length / RAY_STRIDE, rays: f64ToBin(rays) } : {}) };
    out.push(encode(validate(Measurements, m)));
  }
  return out;
}

/** The baseline: each scan's points matched greedily to the nearest last position within 5 m, the rest new tracks. */
function nearestNeighbour(scans: readonly Uint8Array[]): { ms: number; tracks: number } {
  let tracks: number[][] = [];
  const start = performance.now();
  for (const bytes of scans) {
    const m = validate(Measurements, decode(bytes));
    const v = new Float64Array(m.points.buffer.slice(m.points.byteOffset, m.points.byteOffset + m.points.byteLength));
    const taken = new Uint8Array(tracks.length);
    const next: number[][] = [];
    for (let i = 0; i < m.count; i++) {
      const p = [v[i * MEAS_STRIDE]!, v[i * MEAS_STRIDE + 1]!, v[i * MEAS_STRIDE + 2]!];
      let best = -1;
      let bestD = 25;
      for (let j = 0; j < tracks.length; j++) {
        if (taken[j]) continue;
        const q = tracks[j]!;
        const d = (p[0]! - q[0]!) ** 2 + (p[1]! - q[1]!) ** 2 + (p[2]! - q[2]!) ** 2;
        if (d < bestD) [best, bestD] = [j, d];
      }
      if (best >= 0) taken[best] = 1;
      next.push(p);
    }
    tracks = next;
    encode({ t_ns: m.t_ns, tracks: tracks.map((p, i) => ({ id: `t${i}`, position: p })) });
  }
  return { ms: performance.now() - start, tracks: tracks.length };
}

/** Runs the benchmark; returns a JSON-ready report. */
export function trackerThroughput(o: TrackerBenchOptions): Record<string, unknown> {
  const warmup = Math.max(30, Math.round(o.scansPerS));
  const scans = synthesizeScans(o.targets, warmup + o.scans, o.scansPerS);
  const stage = new TrackerStage();
  const now = () => 0n;
  const step = (bytes: Uint8Array): TracksMessage => {
    const { tracks } = stage.step(validate(Measurements, decode(bytes)), now);
    encode(validate(Tracks, tracks));
    return tracks;
  };
  for (const s of scans.slice(0, warmup)) step(s);
  const perScan: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let last: TracksMessage | undefined;
  for (const s of scans.slice(warmup)) {
    const a = performance.now();
    last = step(s);
    perScan.push(performance.now() - a);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const base = nearestNeighbour(scans.slice(warmup));
  const scansPerS = (1000 * o.scans) / wallMs;
  const confirmed = last?.tracks.filter((t) => t.status !== 'tentative').length ?? 0;
  return {
    bench: 'tracker',
    targets: o.targets,
    scans: o.scans,
    clutter_points_per_scan: Math.ceil(o.targets / 10),
    confirmed_tracks_at_end: confirmed,
    scans_per_s: scansPerS,
    ms_per_scan: { ...p50p99([...perScan].sort((a, b) => a - b)), max: Math.max(...perScan) },
    cpu_per_wall: (cpu.user + cpu.system) / 1000 / wallMs,
    required_scans_per_s: o.scansPerS,
    ratio_vs_required: scansPerS / o.scansPerS,
    // What tracking at the required rate costs: CPU seconds a second (main thread and collector).
    cpu_cores_at_required_rate: ((cpu.user + cpu.system) / 1000 / wallMs) * (o.scansPerS / scansPerS),
    baseline_nearest_neighbour_ms_per_scan: base.ms / o.scans,
    ratio_vs_nearest_neighbour: wallMs / base.ms,
  };
}
