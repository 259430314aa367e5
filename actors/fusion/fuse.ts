/**
 * Fusion of one pair's frames (pure): thermal detections are mapped into the mono image,
 * associated with mono detections inside a gate (Mahalanobis, with the mapping's parallax as
 * extra spread, nearest pairs first), and every detection gets a confirmation score.
 */
import { binToF32, f32ToBin } from '../../bus/codec.js';
import type { PairMapping } from '../../geometry/pair.js';
import { BLOB_STRIDE, type DetectionFrame } from '../../schemas/detections.js';
import { FUSED_SOURCE, FUSED_STRIDE, type FusedFrame } from '../../schemas/fused.js';
import type { MessageOf } from '../../schemas/message.js';

export interface FuseOptions {
  /** Association gate on the squared Mahalanobis distance (2 dof; 13.8 ≈ 99.9 %). */
  gateChi2: number;
  /** Objects are at least this far (m): bounds the parallax the infinity mapping ignores. */
  minRangeM: number;
  confirmedScore: number;
  unconfirmedScore: number;
  thermalOnlyScore: number;
}

export const DEFAULT_FUSE_OPTIONS: FuseOptions = { gateChi2: 13.8, minRangeM: 100, confirmedScore: 1, unconfirmedScore: 0.3, thermalOnlyScore: 0.3 };

type Detections = MessageOf<typeof DetectionFrame>;

/** Fuses a mono frame with the thermal frame of the same instant (or none). */
export function fuse(pair: string, mono: Detections, thermal: Detections | undefined, mapping: PairMapping, o: FuseOptions = DEFAULT_FUSE_OPTIONS): MessageOf<typeof FusedFrame> {
  const m = binToF32(mono.blobs);
  const t = thermal ? binToF32(thermal.blobs) : new Float32Array();
  const nm = mono.count;
  const nt = thermal?.count ?? 0;
  // Thermal blobs in mono pixels, their variance scaled by the focal-length ratio.
  const mapped: ([number, number] | undefined)[] = [];
  for (let j = 0; j < nt; j++) mapped.push(mapping.toMono(t[j * BLOB_STRIDE]!, t[j * BLOB_STRIDE + 1]!));
  const par = mapping.parallaxPx(o.minRangeM);
  const parVar = (par * par) / 4; // parallax up to `par`: half of it as one sigma
  const s2 = mapping.scale * mapping.scale;
  const candidates: { i: number; j: number; d2: number }[] = [];
  for (let i = 0; i < nm; i++) {
    const x = m[i * BLOB_STRIDE]!;
    const y = m[i * BLOB_STRIDE + 1]!;
    const vx = m[i * BLOB_STRIDE + 2]!;
    const vy = m[i * BLOB_STRIDE + 3]!;
    const cxy = m[i * BLOB_STRIDE + 4]!;
    for (let j = 0; j < nt; j++) {
      const p = mapped[j];
      if (!p) continue;
      const sxx = vx + t[j * BLOB_STRIDE + 2]! * s2 + parVar;
      const syy = vy + t[j * BLOB_STRIDE + 3]! * s2 + parVar;
      const sxy = cxy + t[j * BLOB_STRIDE + 4]! * s2;
      const det = sxx * syy - sxy * sxy;
      if (!(det > 0)) continue;
      const dx = p[0] - x;
      const dy = p[1] - y;
      const d2 = (syy * dx * dx - 2 * sxy * dx * dy + sxx * dy * dy) / det;
      if (d2 <= o.gateChi2) candidates.push({ i, j, d2 });
    }
  }
  candidates.sort((a, b) => a.d2 - b.d2 || a.i - b.i || a.j - b.j);
  const monoMatch = new Int32Array(nm).fill(-1);
  const thermalMatched = new Uint8Array(nt);
  for (const c of candidates) {
    if (monoMatch[c.i] !== -1 || thermalMatched[c.j]) continue;
    monoMatch[c.i] = c.j;
    thermalMatched[c.j] = 1;
  }
  // Written straight into the output rows: a frame's fusion allocated a few arrays per blob.
  let rows = nm;
  for (let j = 0; j < nt; j++) if (!thermalMatched[j] && mapped[j]) rows++;
  const out = new Float32Array(rows * FUSED_STRIDE);
  let at = 0;
  for (let i = 0; i < nm; i++, at += FUSED_STRIDE) {
    out.set(m.subarray(i * BLOB_STRIDE, (i + 1) * BLOB_STRIDE), at);
    const both = monoMatch[i]! >= 0;
    out[at + BLOB_STRIDE] = both ? o.confirmedScore : o.unconfirmedScore;
    out[at + BLOB_STRIDE + 1] = both ? FUSED_SOURCE.both : FUSED_SOURCE.monoOnly;
  }
  for (let j = 0; j < nt; j++) {
    const p = mapped[j];
    if (thermalMatched[j] || !p) continue;
    out.set(t.subarray(j * BLOB_STRIDE, (j + 1) * BLOB_STRIDE), at);
    out[at] = p[0];
    out[at + 1] = p[1];
    for (let k = 2; k <= 4; k++) out[at + k] = t[j * BLOB_STRIDE + k]! * s2 + (k < 4 ? parVar : 0);
    out[at + BLOB_STRIDE] = o.thermalOnlyScore;
    out[at + BLOB_STRIDE + 1] = FUSED_SOURCE.thermalOnly;
    at += FUSED_STRIDE;
  }
  return {
    t_ns: mono.t_ns,
    pair,
    mono: mono.cam,
    thermal: thermal?.cam ?? '',
    seq: mono.seq,
    count: rows,
    thermal_seen: thermal !== undefined,
    overflow: mono.overflow + (thermal?.overflow ?? 0),
    blobs: f32ToBin(out),
  };
}

/**
 * A pair with one camera: its detections as they are, in that camera's pixels — from a mono
 * camera unconfirmed (no thermal camera can confirm them), from a thermal one thermal-only.
 */
export function passThrough(pair: string, det: Detections, band: 'mono' | 'thermal', o: FuseOptions = DEFAULT_FUSE_OPTIONS): MessageOf<typeof FusedFrame> {
  const b = binToF32(det.blobs);
  const out = new Float32Array(det.count * FUSED_STRIDE);
  const [score, source] = band === 'mono' ? [o.unconfirmedScore, FUSED_SOURCE.monoOnly] : [o.thermalOnlyScore, FUSED_SOURCE.thermalOnly];
  for (let i = 0; i < det.count; i++) {
    out.set(b.subarray(i * BLOB_STRIDE, (i + 1) * BLOB_STRIDE), i * FUSED_STRIDE);
    out[i * FUSED_STRIDE + BLOB_STRIDE] = score;
    out[i * FUSED_STRIDE + BLOB_STRIDE + 1] = source;
  }
  return {
    t_ns: det.t_ns,
    pair,
    mono: band === 'mono' ? det.cam : '',
    thermal: band === 'thermal' ? det.cam : '',
    seq: det.seq,
    count: det.count,
    thermal_seen: band === 'thermal',
    overflow: det.overflow,
    blobs: f32ToBin(out),
  };
}
