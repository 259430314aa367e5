/**
 * The motion kernel in plain TypeScript: the reference the native code is tested against.
 * It mirrors native/src/motion.cpp step for step — float32 (Math.fround) where the C++ uses
 * float, double where it uses double, the same summation order — so both give the same blobs.
 * Single-threaded and slow; for tests and for machines without the addon.
 */
import { CODED, checkFrameSpec, KernelArgumentError, type MotionBlob, type MotionOutput, type MotionParams, motionParams, winsorCorrection } from './motion-params.js';

const fr = Math.fround;

interface Run {
  y: number;
  x0: number;
  x1: number;
  high: boolean;
  peak: number;
}

/** Stateful motion extraction for one camera (reference implementation). */
export class MotionReference {
  readonly width: number;
  readonly height: number;
  readonly bytesPerPixel: number;
  readonly #p: MotionParams;
  readonly #tw: number;
  readonly #th: number;
  readonly #bg: Float32Array;
  readonly #held: Uint8Array;
  readonly #tileVar: Float64Array;
  #frames = 0;
  #noiseKnown = false;
  // The background's variance over the pixels', and this frame's 1 + that (native: bg_var, diff_factor).
  #bgVar = 1;
  #diffFactor = 1;
  readonly #correction: number;
  /** This frame's pixels that learned a ring's mean, with the background they had before (for the moments). */
  readonly #kept = new Map<number, number>();
  /** Coded-video detection (native: follow_repeats): the last frame's sampled block rows, and the running share of blocks repeated. */
  #sampled: Uint8Array | undefined;
  #repeatShare = 0;

  constructor(width: number, height: number, bytesPerPixel: 1 | 2, params: Partial<MotionParams> = {}) {
    checkFrameSpec(width, height, bytesPerPixel);
    this.width = width;
    this.height = height;
    this.bytesPerPixel = bytesPerPixel;
    this.#p = motionParams(params);
    this.#tw = Math.ceil(width / this.#p.tile);
    this.#th = Math.ceil(height / this.#p.tile);
    this.#bg = new Float32Array(width * height);
    this.#held = new Uint8Array(width * height);
    this.#tileVar = new Float64Array(this.#tw * this.#th).fill(fr(this.#p.minSigma) * fr(this.#p.minSigma));
    this.#correction = winsorCorrection(this.#p.kLow);
  }

  /** Compares the sampled 8×8 blocks (CODED.sampleRows block rows, flat ones left out) with the last frame's, follows the share repeated exactly, keeps these. */
  #followRepeats(frame: Uint8Array): void {
    const B = CODED.block;
    const bpp = this.bytesPerPixel;
    const rowBytes = this.width * bpp;
    const blockBytes = B * bpp;
    const rows = Math.floor(this.height / B);
    const bx = Math.floor(this.width / B);
    const stride = Math.max(1, Math.floor(rows / CODED.sampleRows));
    const first = this.#sampled === undefined;
    const keep = (this.#sampled ??= new Uint8Array(Math.ceil(rows / stride) * B * rowBytes));
    let same = 0;
    let blocks = 0;
    for (let r = 0, k = 0; r < rows; r += stride, k++) {
      const at = k * B * rowBytes;
      const src = r * B * rowBytes;
      if (!first) {
        for (let b = 0; b < bx; b++) {
          // A flat block (clipped sky, a blank border) repeats whatever the source: not counted.
          const blk = src + b * blockBytes;
          let flat = true;
          for (let y = 0; y < B && flat; y++) for (let i = 0; i < blockBytes && flat; i++) flat = frame[blk + y * rowBytes + i] === frame[blk + (i % bpp)];
          if (flat) continue;
          let eq = true;
          for (let y = 0; y < B && eq; y++) for (let i = 0; i < blockBytes && eq; i++) eq = frame[blk + y * rowBytes + i] === keep[at + y * rowBytes + b * blockBytes + i];
          if (eq) same++;
          blocks++;
        }
      }
      keep.set(frame.subarray(src, src + B * rowBytes), at);
    }
    if (blocks > 0) this.#repeatShare += CODED.rate * (same / blocks - this.#repeatShare);
  }

  #pixel(frame: Uint8Array, i: number): number {
    return this.bytesPerPixel === 1 ? frame[i]! : frame[2 * i]! | (frame[2 * i + 1]! << 8);
  }

  #sigma(t: number): number {
    return fr(Math.max(fr(this.#p.minSigma), Math.sqrt(this.#diffVar(t))));
  }

  /** Variance of frame − background in tile t: the pixels' own noise plus the background's (native: diff_var). */
  #diffVar(t: number): number {
    return this.#tileVar[t]! * this.#diffFactor;
  }

  /** Row y's stationary point targets: [x, what the background learns there] (native: points_of_row). */
  #points(frame: Uint8Array, y: number): [number, number][] {
    const p = this.#p;
    const { width: w, height: h } = this;
    const R = p.stationaryRing;
    const out: [number, number][] = [];
    if (!(fr(p.kStationary) > 0) || y < R || y >= h - R) return out;
    const px = (x: number, yy: number) => this.#pixel(frame, yy * w + x);
    for (let x = R; x < w - R; x++) {
      const thr = fr(fr(p.kStationary) * this.#sigma(Math.floor(y / p.tile) * this.#tw + Math.floor(x / p.tile)));
      const pre = fr(0.75 * thr);
      const vc = px(x, y);
      const a = px(x - R, y);
      const sgn = vc > a ? 1 : -1;
      // The eight ring pixels straight and diagonally across first (native: point_candidates).
      const across = [a, px(x + R, y), px(x, y - R), px(x, y + R), px(x - R, y - R), px(x + R, y - R), px(x - R, y + R), px(x + R, y + R)];
      if (across.some((q) => sgn * (vc - q) <= pre)) continue;
      let ring = 0;
      for (let k = -R; k <= R; k++) ring += px(x + k, y - R) + px(x + k, y + R);
      for (let k = -R + 1; k <= R - 1; k++) ring += px(x - R, y + k) + px(x + R, y + k);
      const mean = ring / (8 * R);
      const c = sgn * (vc - mean);
      if (c <= thr) continue;
      let spread = -1e300;
      for (let k = -R; k <= R; k++) spread = Math.max(spread, Math.max(sgn * (px(x + k, y - R) - mean), sgn * (px(x + k, y + R) - mean)));
      for (let k = -R + 1; k <= R - 1; k++) spread = Math.max(spread, Math.max(sgn * (px(x - R, y + k) - mean), sgn * (px(x + R, y + k) - mean)));
      if (spread >= 0.5 * c) continue;
      let inner = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) inner += px(x + dx, y + dy);
      if (sgn * (inner / 9 - mean) < fr(p.stationaryCompactness) * c) continue;
      out.push([x, fr(mean)]);
    }
    return out;
  }

  /** Processes one frame; returns its blobs (strongest first). */
  process(frame: Uint8Array): MotionOutput {
    const { width: w, height: h } = this;
    if (frame.byteLength !== w * h * this.bytesPerPixel) throw new KernelArgumentError(`Expected ${w * h * this.bytesPerPixel} bytes for the frame but received ${frame.byteLength}`);
    const p = this.#p;
    const n = this.#frames++;
    const bg = this.#bg;
    this.#followRepeats(frame);
    const coded = this.#repeatShare > CODED.share;
    if (n === 0) {
      // The first frame is the background — but not its stationary point targets: their rings' means.
      const inner = p.stationaryRing - 1;
      let pts = Array.from({ length: 2 * inner }, (_, k) => this.#points(frame, -inner + k));
      for (let y = 0; y < h; y++) {
        pts = [...pts, this.#points(frame, y + inner)];
        for (let x = 0; x < w; x++) bg[y * w + x] = this.#pixel(frame, y * w + x);
        for (const row of pts) for (const [px, u] of row) for (let x = Math.max(0, px - inner); x <= Math.min(w - 1, px + inner); x++) bg[y * w + x] = u;
        pts = pts.slice(1);
      }
      return { blobs: [], overflow: 0, foregroundPixels: 0, warmingUp: true, coded };
    }
    const warm = n <= p.warmupFrames;
    const aBg = warm ? Math.max(fr(p.alpha), fr(1 / fr(n + 1))) : fr(p.alpha);
    const aFg = warm ? aBg : fr(p.alphaForeground);
    const beta = warm ? Math.max(fr(p.noiseAlpha), 1 / n) : fr(p.noiseAlpha);
    this.#diffFactor = 1 + this.#bgVar;
    const T = p.tile;
    const tw = this.#tw;
    const tileD2 = new Float64Array(tw * this.#th);
    const tileN = new Float64Array(tw * this.#th);
    const runs: Run[] = [];
    const d = new Float32Array(w);
    const mask = new Uint8Array(w);
    const kLow = fr(p.kLow);
    const hold = Math.min(254, p.foregroundHoldFrames);
    const kHigh = fr(p.kHigh);
    const upd = new Float32Array(w);
    // Each column's winsorised squared differences down the tile row (float), summed per tile
    // in column order (double) when the tile row ends (native: column_sums_to_tiles).
    const colD2 = new Float32Array(w);
    this.#kept.clear();
    const inner = p.stationaryRing - 1;
    let pts = Array.from({ length: 2 * inner }, (_, k) => this.#points(frame, -inner + k));
    for (let y = 0; y < h; y++) {
      const ty = Math.floor(y / T);
      if (y % T === 0) colD2.fill(0);
      pts = [...pts, this.#points(frame, y + inner)];
      for (let x = 0; x < w; x++) upd[x] = this.#pixel(frame, y * w + x);
      for (const row of pts) {
        for (const [px, u] of row) {
          for (let x = Math.max(0, px - inner); x <= Math.min(w - 1, px + inner); x++) {
            upd[x] = u;
            if (!this.#kept.has(y * w + x)) this.#kept.set(y * w + x, bg[y * w + x]!);
          }
        }
      }
      for (let tx = 0; tx < tw; tx++) {
        // Infinite until the first difference frame has measured the noise (native: mask_thresholds).
        const sigma = this.#noiseKnown ? this.#sigma(ty * tw + tx) : Infinity;
        const lo = fr(kLow * sigma);
        const hi = fr(kHigh * sigma);
        let cnt = 0;
        for (let x = tx * T; x < Math.min(w, tx * T + T); x++) {
          const i = y * w + x;
          const di = fr(this.#pixel(frame, i) - bg[i]!);
          const ad = Math.abs(di);
          const low = ad > lo;
          const held = low ? Math.min(255, this.#held[i]! + 1) : 0;
          this.#held[i] = held;
          bg[i] = fr(bg[i]! + fr((low && held <= hold ? aFg : aBg) * fr(upd[x]! - bg[i]!)));
          d[x] = di;
          mask[x] = (low ? 1 : 0) + (ad > hi ? 1 : 0);
          // Winsorised at lo², not truncated: a target adds little to its tile's noise estimate.
          colD2[x] = fr(colD2[x]! + Math.min(fr(di * di), fr(lo * lo)));
          cnt++;
        }
        tileN[ty * tw + tx]! += cnt;
      }
      if ((y + 1) % T === 0 || y + 1 === h) {
        for (let tx = 0; tx < tw; tx++) {
          let sum = 0;
          for (let x = tx * T; x < Math.min(w, tx * T + T); x++) sum += colD2[x]!;
          tileD2[ty * tw + tx] = sum;
        }
      }
      pts = pts.slice(1);
      if (warm) continue;
      for (let x = 0; x < w; ) {
        if (mask[x] === 0) {
          x++;
          continue;
        }
        const run: Run = { y, x0: x, x1: x, high: false, peak: 0 };
        while (x < w && mask[x] !== 0) {
          run.high ||= mask[x] === 2;
          if (Math.abs(d[x]!) > Math.abs(run.peak)) run.peak = d[x]!;
          x++;
        }
        run.x1 = x - 1;
        runs.push(run);
      }
    }
    // The first difference frame's unwinsorised variance replaces the prior outright.
    const [b, correction] = this.#noiseKnown ? [beta, this.#correction] : [1, 1];
    // With a hold, the estimate is never below this frame's sample nor its own last value decayed (native: release).
    const noiseHold = p.noiseHoldFrames !== 'auto' ? p.noiseHoldFrames : coded ? CODED.holdFrames : 0;
    const release = this.#noiseKnown && noiseHold > 0 ? Math.exp(-1 / noiseHold) : 0;
    for (let t = 0; t < this.#tileVar.length; t++) {
      if (tileN[t]! === 0) continue;
      const sample = ((tileD2[t]! / tileN[t]!) * correction) / this.#diffFactor;
      const mean = (1 - b) * this.#tileVar[t]! + b * sample;
      this.#tileVar[t] = release > 0 ? Math.max(mean, sample, this.#tileVar[t]! * release) : mean;
    }
    this.#noiseKnown = true;
    this.#bgVar = (1 - aBg) * (1 - aBg) * this.#bgVar + aBg * aBg;
    if (warm) return { blobs: [], overflow: 0, foregroundPixels: 0, warmingUp: true, coded };
    return { ...this.#components(frame, runs, aBg, aFg), coded };
  }

  #components(frame: Uint8Array, runs: Run[], aBg: number, aFg: number): MotionOutput {
    const parent = runs.map((_, i) => i);
    const find = (a: number): number => {
      while (parent[a] !== a) a = parent[a] = parent[parent[a]!]!;
      return a;
    };
    let prevBegin = 0;
    let prevEnd = 0;
    for (let i = 0; i < runs.length; ) {
      const y = runs[i]!.y;
      let j = i;
      while (j < runs.length && runs[j]!.y === y) j++;
      if (prevEnd > prevBegin && runs[prevBegin]!.y === y - 1) {
        let a = prevBegin;
        for (let b = i; b < j; b++) {
          while (a < prevEnd && runs[a]!.x1 < runs[b]!.x0 - 1) a++;
          for (let c = a; c < prevEnd && runs[c]!.x0 <= runs[b]!.x1 + 1; c++) {
            const [ra, rb] = [find(c), find(b)];
            if (ra !== rb) parent[Math.max(ra, rb)] = Math.min(ra, rb);
          }
        }
      }
      prevBegin = i;
      prevEnd = j;
      i = j;
    }
    const acc = runs.map(() => ({ peak: 0, area: 0, high: false, x0: 2 ** 31 - 1, y0: 2 ** 31 - 1, x1: -1, y1: -1 }));
    runs.forEach((run, r) => {
      const a = acc[find(r)]!;
      if (Math.abs(run.peak) > Math.abs(a.peak)) a.peak = run.peak;
      a.area += run.x1 - run.x0 + 1;
      a.high ||= run.high;
      a.x0 = Math.min(a.x0, run.x0);
      a.x1 = Math.max(a.x1, run.x1);
      a.y0 = Math.min(a.y0, run.y);
      a.y1 = Math.max(a.y1, run.y);
    });
    const rowRuns = new Map<number, Run[]>();
    for (const r of runs) rowRuns.set(r.y, [...(rowRuns.get(r.y) ?? []), r]);
    const masked = (x: number, y: number) => (rowRuns.get(y) ?? []).some((r) => r.x0 <= x && x <= r.x1);
    const blobs: MotionBlob[] = [];
    let foregroundPixels = 0;
    runs.forEach((_, r) => {
      if (find(r) !== r) return;
      const a = acc[r]!;
      foregroundPixels += a.area;
      if (!a.high) return;
      const b = this.#window(frame, a, a.peak < 0 ? -1 : 1, masked, aBg, aFg);
      if (b) blobs.push({ ...b, area: a.area, peak: a.peak, x0: a.x0, y0: a.y0, x1: a.x1, y1: a.y1 });
    });
    blobs.sort((p, q) => (p.snr !== q.snr ? q.snr - p.snr : p.y0 !== q.y0 ? p.y0 - q.y0 : p.x0 - q.x0));
    const overflow = Math.max(0, blobs.length - this.#p.maxBlobs);
    return { blobs: blobs.slice(0, this.#p.maxBlobs), overflow, foregroundPixels, warmingUp: false };
  }

  #window(
    frame: Uint8Array,
    a: { x0: number; y0: number; x1: number; y1: number },
    sign: number,
    masked: (x: number, y: number) => boolean,
    aBg: number,
    aFg: number,
  ): Omit<MotionBlob, 'area' | 'peak' | 'x0' | 'y0' | 'x1' | 'y1'> | undefined {
    const p = this.#p;
    const { width: w, height: h } = this;
    const m = p.windowMargin;
    const [x0, x1, y0, y1] = [Math.max(0, a.x0 - m), Math.min(w - 1, a.x1 + m), Math.max(0, a.y0 - m), Math.min(h - 1, a.y1 + m)];
    const keepBg = fr(1 - aBg);
    const keepFg = fr(1 - aFg);
    const cols = x1 - x0 + 1;
    const diff = new Float32Array(cols * (y1 - y0 + 1));
    const sig2 = new Float64Array(diff.length);
    let [sw, swx, swy, s2, s2x, s2y, s2xx, s2yy, s2xy, flux] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const i = y * w + x;
        const slow = masked(x, y) && this.#held[i]! <= Math.min(254, p.foregroundHoldFrames);
        const before = this.#kept.get(i);
        const dd = before !== undefined ? fr(this.#pixel(frame, i) - before) : fr(fr(this.#pixel(frame, i) - this.#bg[i]!) / (slow ? keepFg : keepBg));
        const wgt = sign * dd;
        const sg = Math.max(fr(p.minSigma), Math.sqrt(this.#diffVar(Math.floor(y / p.tile) * this.#tw + Math.floor(x / p.tile))));
        const v = sg * sg;
        diff[(y - y0) * cols + (x - x0)] = dd;
        sig2[(y - y0) * cols + (x - x0)] = v;
        sw += wgt;
        swx += wgt * x;
        swy += wgt * y;
        s2 += v;
        s2x += v * x;
        s2y += v * y;
        s2xx += v * x * x;
        s2yy += v * y * y;
        s2xy += v * x * y;
        flux += dd;
      }
    }
    if (!(sw > 0) || !(sign * flux > 0)) return undefined;
    let cx = swx / sw;
    let cy = swy / sw;
    const psf = fr(p.psfSigma);
    const sw2 = 1 / (2 * psf * psf);
    let [gw, vxx, vyy, vxy] = [0, 0, 0, 0];
    for (let it = 0; it < p.centroidIterations; it++) {
      let [sg, sgx, sgy] = [0, 0, 0];
      [gw, vxx, vyy, vxy] = [0, 0, 0, 0];
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          const dx = x - cx;
          const dy = y - cy;
          const g = Math.exp(-(dx * dx + dy * dy) * sw2);
          const k = (y - y0) * cols + (x - x0);
          const wd = g * sign * diff[k]!;
          const sgm = sig2[k]!;
          sg += wd;
          sgx += wd * dx;
          sgy += wd * dy;
          vxx += g * g * sgm * dx * dx;
          vyy += g * g * sgm * dy * dy;
          vxy += g * g * sgm * dx * dy;
        }
      }
      if (!(sg > 0)) break;
      gw = sg;
      const [stepx, stepy] = [(2 * sgx) / sg, (2 * sgy) / sg];
      if (Math.abs(stepx) > 2 || Math.abs(stepy) > 2) break;
      if (cx + stepx < x0 || cx + stepx > x1 || cy + stepy < y0 || cy + stepy > y1) break;
      cx += stepx;
      cy += stepy;
    }
    const w2 = gw * gw;
    const snr = fr(Math.abs(flux) / Math.sqrt(s2));
    // The blob as a whole must stand out as much as one of its pixels had to.
    if (!(snr >= fr(p.kLow))) return undefined;
    return {
      x: fr(cx),
      y: fr(cy),
      varX: fr(w2 > 0 ? (4 * vxx) / w2 : 1 / 12),
      varY: fr(w2 > 0 ? (4 * vyy) / w2 : 1 / 12),
      covXY: fr(w2 > 0 ? (4 * vxy) / w2 : 0),
      flux: fr(flux),
      snr,
    };
  }
}
