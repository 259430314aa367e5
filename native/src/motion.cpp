// Motion extraction. The pixel pass — per row (threads over stripes of whole noise tiles):
// stationary-target candidates, difference to the background, background update, hysteresis
// mask, noise-tile sums, and runs of masked pixels — runs here on the CPU (its row loops in
// motion_rows.cpp), or on a CUDA device (motion_cuda.cu, the same arithmetic). Then, serially
// and only over the sparse runs: 8-connected union-find across rows (stripe seams included)
// and blob moments.
//
// Arithmetic is float32 where the TypeScript reference (kernels/motion-reference.ts) uses
// Math.fround, and double for sums, so both give the same blobs bit for bit on the same input.
#include "skyvox/motion.hpp"

#include "motion_cuda.hpp"
#include "motion_rows.hpp"

#include <emmintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "16-bit frames are little-endian and read as uint16_t");

namespace skyvox {
namespace {

// A run of masked pixels in one row.
struct Run {
  int32_t y, x0, x1;
  bool high;
  bool above;  // it may touch a run of the row above (false: no masked pixel there, 8-connected)
  float peak;  // the signed difference of largest magnitude
};

// A component with a high pixel: its runs' union.
struct Acc {
  float peak = 0;
  int64_t area = 0;
  int32_t x0 = INT32_MAX, y0 = INT32_MAX, x1 = -1, y1 = -1;
};

// Bit x of a row's bits (rows::words).
inline bool bit(const uint64_t* bits, int x) { return (bits[x >> 6] >> (x & 63)) & 1; }

// Whether any of bits [a, b) is set.
inline bool any_bit(const uint64_t* bits, int a, int b) {
  if (a >= b) return false;
  const int ka = a >> 6, kb = (b - 1) >> 6;
  const uint64_t first = ~0ull << (a & 63), last = ~0ull >> (63 - ((b - 1) & 63));
  if (ka == kb) return (bits[ka] & first & last) != 0;
  if (bits[ka] & first) return true;
  for (int k = ka + 1; k < kb; k++)
    if (bits[k]) return true;
  return (bits[kb] & last) != 0;
}

// Calls f(x0, x1) for each run [x0, x1) of set bits among the first n (bits past n are clear).
template <typename F>
void for_each_run(const uint64_t* bits, int n, F&& f) {
  const int nw = rows::words(n);
  for (int k = 0; k < nw; k++) {
    uint64_t m = bits[k];
    while (m != 0) {
      const int b = __builtin_ctzll(m);
      // The run ends at the first clear bit from b on, in this word or a later one.
      uint64_t clear = ~bits[k] & (~0ull << b);
      int e = k;
      while (clear == 0 && ++e < nw) clear = ~bits[e];
      if (e == nw) return f(k * 64 + b, n);
      const int x1 = e * 64 + __builtin_ctzll(clear);
      f(k * 64 + b, x1);
      k = e;
      m = bits[k] & (~0ull << (x1 & 63));
    }
  }
}

// A tile row's noise sums: each tile's column sums (float, down the rows) added in column order
// in double — an order the TypeScript reference and the CUDA twin repeat exactly.
void column_sums_to_tiles(const float* col, int n, int T, double* sums) {
  constexpr int kSide = 8;  // tiles side by side, so their sums' latencies overlap
  const int whole = n / T;
  int t = 0;
  for (; t + kSide <= whole; t += kSide) {
    const float* c = col + static_cast<size_t>(t) * T;
    double a[kSide] = {};
    for (int k = 0; k < T; k++)
      for (int j = 0; j < kSide; j++) a[j] += c[j * T + k];
    for (int j = 0; j < kSide; j++) sums[t + j] = a[j];
  }
  for (; t * T < n; t++) {
    double acc = 0;
    for (int x = t * T; x < std::min(n, t * T + T); x++) acc += col[x];
    sums[t] = acc;
  }
}

int hardware_threads() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

}  // namespace

MotionCudaInfo motion_cuda_info() {
  const cuda::Status s = cuda::status();
  return {s.built, s.available, s.device, s.reason};
}

const char* motion_simd_path() { return rows::avx512() ? "avx512" : __builtin_cpu_supports("avx2") ? "avx2" : "scalar"; }

// Coded-video detection (MotionParams::kAutoHold): 8×8 blocks (a codec's smallest transform
// block, aligned with larger ones) of about 16 evenly spaced block rows (an 8K frame: 1/34 of
// it), flat blocks left out; a running share of exactly repeated blocks (rate 0.1 a frame)
// above one half means coded video.
constexpr int kCodedBlock = 8;
constexpr int kCodedSampleRows = 16;
constexpr double kCodedRate = 0.1;
constexpr double kCodedShare = 0.5;

struct MotionDetector::Impl {
  int w, h, bpp, tw, th, nthreads;
  MotionParams p;
  std::vector<float> bg;
  std::vector<uint8_t> held;  // frames in a row each pixel has been masked (saturating)
  double correction = 1.0;    // 1 / E[min(Z², k_low²)] for a standard normal Z
  std::vector<double> tile_var;  // the pixels' noise variance (DN²) per tile
  std::vector<double> tile_sd;   // max(min_sigma, √(tile_var·diff_factor)) per tile (refresh_sigmas)
  bool noise_known = false;      // set by the first difference frame
  // The background's variance over the pixels' (1 while it is one frame, 1/(n+1) as the mean
  // of n+1, α/(2−α) once it runs at α), and this frame's 1 + that: a difference's noise. Without
  // it warm-up's estimate came out a third high (the mean of 1 + 1/n over its frames) and the
  // first seconds after it missed faint targets.
  double bg_var = 1.0, diff_factor = 1.0;
  std::vector<double> tile_d2;   // this frame's sums, written per stripe
  std::vector<int64_t> tile_n;  // pixels per tile
  int64_t frame_index = 0;
  // Coded-video detection: the sampled blocks of the last frame, and the running share of
  // them the next frame repeated exactly.
  std::vector<uint8_t> sampled;
  double repeat_share = 0.0;
  std::vector<uint8_t> aligned;  // a 16-bit frame handed over at an odd address, copied
  // The pixel pass on a GPU (then bg and held live there, not here).
  std::unique_ptr<cuda::MotionPass> gpu;
  // ring_at_u8's byte masks over a window row from x − R: the ring's top and bottom rows (bytes
  // 0 … 2R), its sides (0 and 2R), the 3×3 (R − 1 … R + 1).
  __m128i ring_rows_, ring_sides_, ring_inner_;

  void set_ring_masks() {
    const int R = p.stationary_ring;
    alignas(16) uint8_t rows[16] = {}, sides[16] = {}, inner[16] = {};
    for (int i = 0; i < 16; i++) {
      rows[i] = i <= 2 * R ? 0xff : 0;
      sides[i] = i == 0 || i == 2 * R ? 0xff : 0;
      inner[i] = i >= R - 1 && i <= R + 1 ? 0xff : 0;
    }
    ring_rows_ = _mm_load_si128(reinterpret_cast<const __m128i*>(rows));
    ring_sides_ = _mm_load_si128(reinterpret_cast<const __m128i*>(sides));
    ring_inner_ = _mm_load_si128(reinterpret_cast<const __m128i*>(inner));
  }

  // A stationary point target's pixel and what it teaches the background (its ring's mean).
  struct Point {
    int x;
    float u;
  };

  struct Scratch {
    std::vector<float> d, col, lo, hi, lo2;  // a row's masked pixels' differences, column sums, thresholds
    std::vector<float> per16;                // the thresholds once per 16 pixels (rows::Thresholds)
    std::vector<uint64_t> low, high;        // a row's masks, as bits (rows::words)
    std::vector<uint64_t> low_above;        // the row above's low bits (none: all set)
    std::vector<uint8_t> bytes;             // the row kernels' scratch
    std::vector<Run> runs;
    size_t last_row_runs = 0;  // where the last row's runs begin in `runs`
    int64_t lone_area = 0;     // pixels of the runs left out (runs_of_row)
    std::vector<std::vector<Point>> pts;  // rows y − (R − 1) … y + (R − 1)
    std::vector<int> xs;                  // row y's pixels that learn a ring's mean, sorted
    std::vector<float> upd;               // ... and that mean, at those pixels only
    // The candidate pass's thresholds for tile row `thr_row`: ⌊pre⌋ per pixel in the frame's
    // pixel type, the point threshold per tile.
    std::vector<uint8_t> floor_pre8;
    std::vector<uint16_t> floor_pre16;
    std::vector<float> thr;
    int thr_row = -1;
    std::vector<uint64_t> cand;  // candidate bits of pixels R, R + 1, …
    std::vector<std::pair<size_t, float>> kept;  // (pixel, background before this frame's update) where it learned a ring's mean
  };
  // This frame's `kept` of every stripe, by pixel: the moments read the background these had.
  std::vector<std::pair<size_t, float>> kept;
  std::vector<int32_t> slot;  // each run's component's blob slot, or −1 (kept to reuse its memory)
  std::vector<Scratch> scratch;

  float pixel(const uint8_t* frame, int x, int y) const {
    const size_t i = static_cast<size_t>(y) * w + x;
    return bpp == 1 ? static_cast<float>(frame[i]) : static_cast<float>(reinterpret_cast<const uint16_t*>(frame)[i]);
  }

  // Compares this frame's sampled 8×8 blocks (kCodedSampleRows block rows) with the last
  // frame's, follows the share repeated exactly, and keeps this frame's for the next.
  void follow_repeats(const uint8_t* frame) {
    const size_t row_bytes = static_cast<size_t>(w) * bpp, block_bytes = static_cast<size_t>(kCodedBlock) * bpp;
    const int rows = h / kCodedBlock, bx = w / kCodedBlock, stride = std::max(1, rows / kCodedSampleRows);
    const bool first = sampled.empty();
    if (first) sampled.resize(static_cast<size_t>((rows + stride - 1) / stride) * kCodedBlock * row_bytes);
    int64_t same = 0, blocks = 0;
    for (int r = 0, k = 0; r < rows; r += stride, k++) {
      uint8_t* keep = sampled.data() + static_cast<size_t>(k) * kCodedBlock * row_bytes;
      const uint8_t* src = frame + static_cast<size_t>(r) * kCodedBlock * row_bytes;
      if (!first) {
        for (int b = 0; b < bx; b++) {
          // A flat block (clipped sky, a blank border) repeats whatever the source: not counted.
          const uint8_t* blk = src + b * block_bytes;
          bool flat = true;
          for (int y = 0; y < kCodedBlock && flat; y++)
            for (int i = 0; i < kCodedBlock && flat; i++) flat = std::memcmp(blk + y * row_bytes + i * bpp, blk, bpp) == 0;
          if (flat) continue;
          bool eq = true;
          for (int y = 0; y < kCodedBlock && eq; y++) eq = std::memcmp(blk + y * row_bytes, keep + y * row_bytes + b * block_bytes, block_bytes) == 0;
          same += eq;
          blocks++;
        }
      }
      std::memcpy(keep, src, kCodedBlock * row_bytes);
    }
    if (blocks > 0) repeat_share += kCodedRate * (static_cast<double>(same) / static_cast<double>(blocks) - repeat_share);
  }

  bool coded() const { return repeat_share > kCodedShare; }

  // The hold in force: the setting, or under kAutoHold the coded-video one while frames look coded.
  int hold_frames() const { return p.noise_hold_frames != MotionParams::kAutoHold ? p.noise_hold_frames : coded() ? MotionParams::kCodedHoldFrames : 0; }

  // Tile t's noise σ (DN), as every threshold of the frame takes it (refresh_sigmas).
  float tile_sigma(size_t t) const { return static_cast<float>(tile_sd[t]); }

  // Every tile's σ of frame − background, from the noise and diff_factor now in force: once a
  // frame, in one vectorised loop, rather than a square root per tile for each threshold.
  void refresh_sigmas() {
    tile_sd.resize(tile_var.size());
    const double floor = p.min_sigma, factor = diff_factor;
    for (size_t t = 0; t < tile_var.size(); t++) tile_sd[t] = std::max(floor, std::sqrt(tile_var[t] * factor));
  }

  // Variance of frame − background in tile t: the pixels' own noise plus the background's.
  double diff_var(size_t t) const { return tile_var[t] * diff_factor; }

  // Tile t's mask thresholds k_low·σ and k_high·σ. Until the first difference frame has
  // measured the noise they are infinite: nothing is masked and nothing winsorised, so that
  // frame's variance is the camera's own whatever the prior (σ = min_sigma winsorised at
  // k_low·min_sigma grows at most k_low-fold a frame: a 16-bit camera took seconds).
  std::pair<float, float> mask_thresholds(size_t t) const {
    if (!noise_known) return {std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity()};
    const float sigma = tile_sigma(t);
    return {p.k_low * sigma, p.k_high * sigma};
  }

  // Tile t's stationary point threshold (k·σ), and the candidate pass's ⌊¾ of it⌋ for pixels up to `top`.
  std::pair<float, uint32_t> stationary_thresholds(size_t t, uint32_t top) const {
    const float thr = p.k_stationary * tile_sigma(t);
    const float pre = 0.75f * thr;
    // pre ≥ 0 (σ ≥ 0, k > 0); one the pixels cannot exceed, or NaN, admits no candidate.
    return {thr, !(pre < static_cast<float>(top)) ? top : static_cast<uint32_t>(pre)};
  }

  // Spreads tile row ty's stationary thresholds over the pixels, once per tile row.
  template <typename Pix>
  void candidate_thresholds(int ty, Scratch& s, std::vector<Pix>& floor_pre) const {
    const int T = p.tile;
    const Pix top = std::numeric_limits<Pix>::max();
    floor_pre.resize(w);
    s.thr.resize(tw);
    for (int tx = 0; tx < tw; tx++) {
      const auto [thr, f] = stationary_thresholds(static_cast<size_t>(ty) * tw + tx, top);
      s.thr[tx] = thr;
      std::fill(floor_pre.begin() + tx * T, floor_pre.begin() + std::min(w, tx * T + T), static_cast<Pix>(f));
    }
  }

  template <typename Pix>
  static std::vector<Pix>& floor_pre_of(Scratch& s) {
    if constexpr (sizeof(Pix) == 1) return s.floor_pre8;
    else return s.floor_pre16;
  }

  // Sets up row y's candidate pass (rows y − R, y, y + R of the frame; bit i of s.cand is pixel
  // R + i) with its tile row's thresholds. False where the row has none (the protection off, or
  // the ring would leave the frame).
  template <typename Pix>
  bool candidate_row(const uint8_t* frame, int y, Scratch& s, rows::CandidateRow<Pix>& cr) const {
    const int R = p.stationary_ring;
    if (p.k_stationary <= 0 || y < R || y >= h - R) return false;
    const int T = p.tile;
    std::vector<Pix>& floor_pre = floor_pre_of<Pix>(s);
    if (s.thr_row != y / T) candidate_thresholds(y / T, s, floor_pre);
    s.thr_row = y / T;
    const Pix* pc = reinterpret_cast<const Pix*>(frame) + static_cast<size_t>(y) * w;
    const Pix* pu = pc - static_cast<size_t>(R) * w;
    const Pix* pd = pc + static_cast<size_t>(R) * w;
    cr = rows::CandidateRow<Pix>{pc + R, {pc, pc + 2 * R, pu + R, pd + R, pu, pu + 2 * R, pd, pd + 2 * R}, floor_pre.data() + R, s.cand.data(), w - 2 * R};
    return true;
  }

  // Row y's stationary point targets among its candidates (s.cand, set up by candidate_row), in x order.
  void judge_candidates(const uint8_t* frame, int y, const Scratch& s, std::vector<Point>& out) const {
    const int R = p.stationary_ring, T = p.tile;
    for (int k = 0; k < rows::words(w - 2 * R); k++)
      for (uint64_t m = s.cand[k]; m != 0; m &= m - 1) {
        const int x = R + 64 * k + __builtin_ctzll(m);
        point_at(frame, x, y, s.thr[x / T], out);
      }
  }

  // Row y's stationary point targets (MotionParams::k_stationary), in x order. Reads only the
  // frame and the noise of the previous frames, so any stripe may look at any row.
  void points_of_row(const uint8_t* frame, int y, Scratch& s, std::vector<Point>& out) const {
    out.clear();
    if (bpp == 1) {
      rows::CandidateRow<uint8_t> cr;
      if (!candidate_row(frame, y, s, cr)) return;
      rows::candidates(cr, s.bytes.data());
    } else {
      rows::CandidateRow<uint16_t> cr;
      if (!candidate_row(frame, y, s, cr)) return;
      rows::candidates(cr, s.bytes.data());
    }
    judge_candidates(frame, y, s, out);
  }

  // A candidate's ring: the sum, largest and smallest of its 8R pixels, and the sum of its 3×3.
  struct Ring {
    int64_t sum;
    int32_t hi, lo, inner;
  };

  // The pixels are integers, so their sums are exact in any order (the reference's pairwise
  // double sums included), and the largest (smallest) ring pixel minus the mean is the largest
  // (smallest) of the ring's differences to it, as the reference takes them one by one.
  template <typename Pix>
  Ring ring_at(const Pix* f, int x, int y) const {
    const int R = p.stationary_ring;
    if constexpr (sizeof(Pix) == 1)
      if (R <= 7 && x - R + 16 <= w) return ring_at_u8(f, x, y);
    const Pix* row = f + static_cast<size_t>(y) * w;
    const Pix *top = row - static_cast<size_t>(R) * w, *bottom = row + static_cast<size_t>(R) * w;
    Ring r{0, 0, std::numeric_limits<int32_t>::max(), 0};
    const auto take = [&](int32_t q) {
      r.sum += q;
      r.hi = std::max(r.hi, q);
      r.lo = std::min(r.lo, q);
    };
    for (int k = -R; k <= R; k++) take(top[x + k]), take(bottom[x + k]);
    for (int k = -R + 1; k <= R - 1; k++) take(row[static_cast<ptrdiff_t>(k) * w + x - R]), take(row[static_cast<ptrdiff_t>(k) * w + x + R]);
    for (int dy = -1; dy <= 1; dy++)
      for (int dx = -1; dx <= 1; dx++) r.inner += row[static_cast<ptrdiff_t>(dy) * w + x + dx];
    return r;
  }

  // ring_at for 8-bit pixels, a row of the (2R + 1)² window per 16-byte load (R ≤ 7, and the
  // loads end within the row): the noise's candidates are many (tens of thousands an 8K frame),
  // and one by one their 8R + 9 scattered bytes cost a tenth of the pixel pass.
  Ring ring_at_u8(const uint8_t* f, int x, int y) const {
    const int R = p.stationary_ring;
    const uint8_t* at = f + static_cast<size_t>(y) * w + (x - R);
    const __m128i zero = _mm_setzero_si128();
    __m128i sum = zero, inner = zero, hi = zero, lo = _mm_set1_epi8(static_cast<char>(-1));
    for (int dy = -R; dy <= R; dy++) {
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at + static_cast<ptrdiff_t>(dy) * w));
      const __m128i keep = dy == -R || dy == R ? ring_rows_ : ring_sides_;
      const __m128i in = _mm_and_si128(v, keep);
      sum = _mm_add_epi64(sum, _mm_sad_epu8(in, zero));
      hi = _mm_max_epu8(hi, in);
      lo = _mm_min_epu8(lo, _mm_or_si128(v, _mm_andnot_si128(keep, _mm_set1_epi8(static_cast<char>(-1)))));
      if (dy >= -1 && dy <= 1) inner = _mm_add_epi64(inner, _mm_sad_epu8(_mm_and_si128(v, ring_inner_), zero));
    }
    hi = _mm_max_epu8(hi, _mm_srli_si128(hi, 8));
    lo = _mm_min_epu8(lo, _mm_srli_si128(lo, 8));
    hi = _mm_max_epu8(hi, _mm_srli_si128(hi, 4));
    lo = _mm_min_epu8(lo, _mm_srli_si128(lo, 4));
    hi = _mm_max_epu8(hi, _mm_srli_si128(hi, 2));
    lo = _mm_min_epu8(lo, _mm_srli_si128(lo, 2));
    hi = _mm_max_epu8(hi, _mm_srli_si128(hi, 1));
    lo = _mm_min_epu8(lo, _mm_srli_si128(lo, 1));
    const auto total = [](__m128i v) { return _mm_cvtsi128_si64(v) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v)); };
    return Ring{total(sum), _mm_cvtsi128_si32(hi) & 0xff, _mm_cvtsi128_si32(lo) & 0xff, static_cast<int32_t>(total(inner))};
  }

  // Whether the candidate at (x, y) is a stationary point target (threshold `thr`, k·σ of its
  // tile); if so it joins `out` with its ring's mean.
  void point_at(const uint8_t* frame, int x, int y, float thr, std::vector<Point>& out) const {
    if (bpp == 1) point_at_as(frame, x, y, thr, out);
    else point_at_as(reinterpret_cast<const uint16_t*>(frame), x, y, thr, out);
  }

  template <typename Pix>
  void point_at_as(const Pix* f, int x, int y, float thr, std::vector<Point>& out) const {
    const int R = p.stationary_ring;
    const Pix* row = f + static_cast<size_t>(y) * w;
    const Ring r = ring_at(f, x, y);
    const double vc = row[x];
    const double sgn = row[x] > row[x - R] ? 1.0 : -1.0;
    const double mean = static_cast<double>(r.sum) / (8 * R);
    const double c = sgn * (vc - mean);
    if (c <= thr) return;
    // Not an edge: no ring pixel halfway up to the centre.
    const double spread = sgn * ((sgn > 0 ? r.hi : r.lo) - mean);
    if (spread >= 0.5 * c) return;
    // Not a lone hot pixel: its 3×3 carries a share of the contrast, as a PSF does.
    if (sgn * (r.inner / 9.0 - mean) < static_cast<double>(p.stationary_compactness) * c) return;
    out.push_back({x, static_cast<float>(mean)});
  }

  // Where row y's background learns a ring's mean instead of the pixel (everything inside a
  // point target's ring): s.xs and s.upd there, the later target's mean where rings overlap.
  // False: nowhere.
  bool gather_points(Scratch& s) const {
    s.xs.clear();
    const int in = p.stationary_ring - 1;
    for (const auto& row : s.pts)
      for (const Point& pt : row)
        for (int x = std::max(0, pt.x - in); x <= std::min(w - 1, pt.x + in); x++) {
          s.upd[x] = pt.u;
          s.xs.push_back(x);
        }
    if (s.xs.empty()) return false;
    std::sort(s.xs.begin(), s.xs.end());
    s.xs.erase(std::unique(s.xs.begin(), s.xs.end()), s.xs.end());
    return true;
  }

  // gather_points, and their background before the update kept (host background, row y).
  bool gather_points(Scratch& s, int y, const float* bgrow) const {
    if (!gather_points(s)) return false;
    for (int x : s.xs) s.kept.emplace_back(static_cast<size_t>(y) * w + x, bgrow[x]);
    return true;
  }

  // After the pixel pass, the gathered pixels learn the ring's mean instead, from the background
  // they had and at the rate the pass chose: the pixel pass's own expression, so the same floats.
  void patch_points(const Scratch& s, float* bgrow, const uint8_t* heldrow, float a_bg, float a_fg, uint8_t hold) const {
    const size_t base = s.kept.size() - s.xs.size();
    for (size_t k = 0; k < s.xs.size(); k++) {
      const int x = s.xs[k];
      const float before = s.kept[base + k].second;
      const bool low = bit(s.low.data(), x);
      bgrow[x] = before + ((low && heldrow[x] <= hold) ? a_fg : a_bg) * (s.upd[x] - before);
    }
  }

  // The first frame is the background — but not its stationary point targets: their rings' means.
  // Every row's stationary-target lessons, as sorted pixel indices and what they learn (GPU
  // pass): the rows' points from `row_points(y, out)`, asked for in increasing y, gathered as
  // the CPU stripes gather them.
  template <typename RowPoints>
  void rolling_points(RowPoints&& row_points, std::vector<uint32_t>& idx, std::vector<float>& val) {
    Scratch& s = scratch[0];
    const int in = std::max(0, p.stationary_ring - 1);
    s.pts.resize(2 * in + 1);
    for (int k = 0; k < 2 * in; k++) row_points(k - in, s.pts[k]);
    for (int y = 0; y < h; y++) {
      row_points(y + in, s.pts[2 * in]);
      if (gather_points(s))
        for (int x : s.xs) {
          idx.push_back(static_cast<uint32_t>(static_cast<size_t>(y) * w + x));
          val.push_back(s.upd[x]);
        }
      std::rotate(s.pts.begin(), s.pts.begin() + 1, s.pts.end());
    }
  }

  // The GPU path's points of the loaded frame: candidates from the device's pass (the host's
  // when the device's list overflows), judged here.
  void all_points(const uint8_t* frame, std::vector<uint32_t>& idx, std::vector<float>& val) {
    idx.clear();
    val.clear();
    if (p.k_stationary <= 0) return;
    const int R = p.stationary_ring, T = p.tile;
    std::vector<uint32_t> floor_pre(tile_var.size()), cand;
    std::vector<float> thr(tile_var.size());
    const uint32_t top = bpp == 1 ? 255u : 65535u;
    for (size_t t = 0; t < tile_var.size(); t++) std::tie(thr[t], floor_pre[t]) = stationary_thresholds(t, top);
    if (gpu->candidates(R, floor_pre, cand)) {
      size_t ci = 0;
      rolling_points(
          [&](int y, std::vector<Point>& out) {
            out.clear();
            while (ci < cand.size() && cand[ci] / static_cast<uint32_t>(w) < static_cast<uint32_t>(std::max(0, y))) ci++;
            for (; ci < cand.size() && cand[ci] / static_cast<uint32_t>(w) == static_cast<uint32_t>(y); ci++) {
              const int x = static_cast<int>(cand[ci] % static_cast<uint32_t>(w));
              point_at(frame, x, y, thr[(y / T) * tw + x / T], out);
            }
          },
          idx, val);
    } else {
      scratch[0].thr_row = -1;
      rolling_points([&](int y, std::vector<Point>& out) { points_of_row(frame, y, scratch[0], out); }, idx, val);
    }
  }

  // The pixel pass of one frame on the GPU: the CPU stripes' results (kept, tile sums, runs).
  void gpu_pass(const uint8_t* frame, float a_bg, float a_fg, bool detect) {
    std::vector<float> lo(tile_var.size()), hi(tile_var.size()), upd, before;
    for (size_t t = 0; t < tile_var.size(); t++) std::tie(lo[t], hi[t]) = mask_thresholds(t);
    std::vector<uint32_t> idx;
    gpu->load(frame);
    all_points(frame, idx, upd);
    std::vector<cuda::RunOut> out;
    const uint8_t hold = static_cast<uint8_t>(std::min(254, p.foreground_hold_frames));
    gpu->frame(lo, hi, a_bg, a_fg, hold, idx, upd, before, tile_d2, detect, out);
    for (size_t i = 0; i < idx.size(); i++) scratch[0].kept.emplace_back(idx[i], before[i]);
    for (const cuda::RunOut& r : out) scratch[0].runs.push_back(Run{r.y, r.x0, r.x1, r.high != 0, true, r.peak});
  }

  void first_frame(const uint8_t* frame) {
    if (gpu) {
      std::vector<uint32_t> idx;
      std::vector<float> val;
      gpu->load(frame);
      all_points(frame, idx, val);
      gpu->first(idx, val);
      return;
    }
    Scratch& s = scratch[0];
    const int in = std::max(0, p.stationary_ring - 1);
    s.pts.resize(2 * in + 1);
    s.thr_row = -1;
    for (int k = 0; k < 2 * in; k++) points_of_row(frame, k - in, s, s.pts[k]);
    for (int y = 0; y < h; y++) {
      points_of_row(frame, y + in, s, s.pts[2 * in]);
      float* bgrow = bg.data() + static_cast<size_t>(y) * w;
      for (int x = 0; x < w; x++) bgrow[x] = pixel(frame, x, y);
      if (gather_points(s, y, bgrow))
        for (int x : s.xs) bgrow[x] = s.upd[x];
      std::rotate(s.pts.begin(), s.pts.begin() + 1, s.pts.end());
    }
    s.kept.clear();
  }

  // Rows [r0, r1) — whole tile rows — of one frame.
  void stripe(const uint8_t* frame, int r0, int r1, Scratch& s, float a_bg, float a_fg, bool detect) {
    if (bpp == 1) stripe_as<uint8_t>(frame, r0, r1, s, a_bg, a_fg, detect);
    else stripe_as<uint16_t>(frame, r0, r1, s, a_bg, a_fg, detect);
  }

  template <typename Pix>
  void stripe_as(const uint8_t* frame, int r0, int r1, Scratch& s, float a_bg, float a_fg, bool detect) {
    const int T = p.tile;
    const int in = std::max(0, p.stationary_ring - 1);
    const uint8_t hold = static_cast<uint8_t>(std::min(254, p.foreground_hold_frames));
    s.pts.resize(2 * in + 1);
    s.thr_row = -1;  // a new frame: new noise
    for (int k = 0; k <= 2 * in; k++) points_of_row(frame, r0 - in + k, s, s.pts[k]);
    // The row above the stripe is another stripe's: its runs may touch any of the first row's.
    std::fill(s.low_above.begin(), s.low_above.end(), ~0ull);
    for (int y = r0; y < r1; y++) {
      const int ty = y / T;
      float* bgrow = bg.data() + static_cast<size_t>(y) * w;
      uint8_t* heldrow = held.data() + static_cast<size_t>(y) * w;
      if (y == r0 || y % T == 0) {
        // Thresholds change per tile: spread them over the row once per tile row, so the
        // pixel pass runs over whole rows (long enough to vectorise).
        for (int tx = 0; tx < tw; tx++) {
          const auto [lo, hi] = mask_thresholds(static_cast<size_t>(ty) * tw + tx);
          for (int x = tx * T; x < std::min(w, tx * T + T); x++) {
            s.lo[x] = lo;
            s.hi[x] = hi;
            s.lo2[x] = lo * lo;
          }
        }
        if (T % 16 == 0)
          for (int v = 0; v < w / 16; v++) {
            s.per16[3 * v] = s.lo[16 * v];
            s.per16[3 * v + 1] = s.hi[16 * v];
            s.per16[3 * v + 2] = s.lo2[16 * v];
          }
        std::fill(s.col.begin(), s.col.end(), 0.0f);
      }
      const bool points = gather_points(s, y, bgrow);
      const size_t at = static_cast<size_t>(y) * w;
      const rows::Thresholds thresholds{s.lo.data(), s.hi.data(), s.lo2.data(), T % 16 == 0 ? s.per16.data() : nullptr};
      const rows::Rates rates{a_bg, a_fg, hold};
      // The next row's newest row of points: its candidates found within this row's pass.
      const int next = y + 1 + in;
      rows::CandidateRow<Pix> cr;
      const bool fused = y + 1 < r1 && candidate_row(frame, next, s, cr);
      rows::pixel_pass(reinterpret_cast<const Pix*>(frame) + at, bgrow, heldrow, s.d.data(), s.col.data(), s.low.data(), s.high.data(), w, thresholds, rates, fused ? &cr : nullptr, s.bytes.data());
      if (y + 1 == r1 || (y + 1) % T == 0) column_sums_to_tiles(s.col.data(), w, T, tile_d2.data() + static_cast<size_t>(ty) * tw);
      if (points) patch_points(s, bgrow, heldrow, a_bg, a_fg, hold);
      if (detect) runs_of_row(y, s);
      std::swap(s.low, s.low_above);
      std::rotate(s.pts.begin(), s.pts.begin() + 1, s.pts.end());
      s.pts[2 * in].clear();
      if (fused) judge_candidates(frame, next, s, s.pts[2 * in]);
    }
  }

  // Moments over the blob's box grown by `window_margin` pixels, from every pixel's difference to the
  // background before this frame's update (recovered exactly as the update was applied), in
  // the blob's sign: the mask decides what is a blob, not which pixels weigh in its centroid.
  mutable std::vector<float> diff_;
  mutable std::vector<double> sigma2_;
  mutable std::vector<float> win_bg_;
  mutable std::vector<uint8_t> win_held_;
  mutable std::vector<double> gx_, gy_;

  bool window_moments(const uint8_t* frame, int bx0, int by0, int bx1, int by1, float sign, float a_bg, float a_fg, Blob& b) const {
    const int m = p.window_margin;
    const int x0 = std::max(0, bx0 - m), x1 = std::min(w - 1, bx1 + m), y0 = std::max(0, by0 - m), y1 = std::min(h - 1, by1 + m);
    const size_t cols = static_cast<size_t>(x1 - x0 + 1);
    diff_.resize(cols * (y1 - y0 + 1));
    sigma2_.resize(diff_.size());
    // The window's background and hold counts after this frame's update, wherever they live.
    win_bg_.resize(diff_.size());
    win_held_.resize(diff_.size());
    if (gpu) {
      gpu->window(x0, y0, x1, y1, win_bg_.data(), win_held_.data());
    } else {
      for (int y = y0; y <= y1; y++) {
        const size_t at = static_cast<size_t>(y) * w + x0, to = static_cast<size_t>(y - y0) * cols;
        std::copy(bg.begin() + at, bg.begin() + at + cols, win_bg_.begin() + to);
        std::copy(held.begin() + at, held.begin() + at + cols, win_held_.begin() + to);
      }
    }
    const int T = p.tile;
    const float keep_bg = 1.0f - a_bg, keep_fg = 1.0f - a_fg;
    double sw = 0, swx = 0, swy = 0, s2 = 0, s2x = 0, s2y = 0, s2xx = 0, s2yy = 0, s2xy = 0, flux = 0;
    for (int y = y0; y <= y1; y++) {
      // Cursors along the row, which the pixels visit in x order: the pixels that learned a
      // ring's mean (kept, by index), the noise tile.
      auto k = std::lower_bound(kept.begin(), kept.end(), std::make_pair(static_cast<size_t>(y) * w + x0, -std::numeric_limits<float>::infinity()));
      int tile = -1;
      double v = 0;
      for (int x = x0; x <= x1; x++) {
        const size_t i = static_cast<size_t>(y) * w + x;
        const float f = pixel(frame, x, y);
        const size_t j = static_cast<size_t>(y - y0) * cols + (x - x0);
        // Masked this frame exactly where the hold count (after the update) is not 0.
        const bool slow = win_held_[j] != 0 && win_held_[j] <= std::min(254, p.foreground_hold_frames);
        while (k != kept.end() && k->first < i) k++;
        const float* before = k != kept.end() && k->first == i ? &k->second : nullptr;
        const float d = before ? f - *before : (f - win_bg_[j]) / (slow ? keep_fg : keep_bg);
        const double wgt = static_cast<double>(sign * d);
        if (x / T != tile) {
          tile = x / T;
          const double sg = std::max(static_cast<double>(p.min_sigma), std::sqrt(diff_var(static_cast<size_t>(y / T) * tw + tile)));
          v = sg * sg;
        }
        diff_[static_cast<size_t>(y - y0) * (x1 - x0 + 1) + (x - x0)] = d;
        sigma2_[static_cast<size_t>(y - y0) * (x1 - x0 + 1) + (x - x0)] = v;
        sw += wgt;
        swx += wgt * x;
        swy += wgt * y;
        s2 += v;
        s2x += v * x;
        s2y += v * y;
        s2xx += v * x * x;
        s2yy += v * y * y;
        s2xy += v * x * y;
        flux += d;
      }
    }
    // A blob whose window does not carry the sign of its peak is noise around a ghost or an
    // edge, not an object.
    if (!(sw > 0) || !(sign * flux > 0)) return false;
    double cx = swx / sw, cy = swy / sw;
    // Refine with a Gaussian window the size of the PSF, recentred each time (windowed
    // centroid, as SExtractor's XWIN): near the Cramér–Rao bound where the plain centroid of
    // the box is dominated by the noise of its outer pixels.
    const double sw2 = 1.0 / (2.0 * p.psf_sigma * p.psf_sigma);
    double gw = 0, vxx = 0, vyy = 0, vxy = 0;
    gx_.resize(cols);
    gy_.resize(static_cast<size_t>(y1 - y0 + 1));
    for (int it = 0; it < p.centroid_iterations; it++) {
      double sg = 0, sgx = 0, sgy = 0;
      gw = vxx = vyy = vxy = 0;
      // The Gaussian is separable: a row's and a column's factors, (w + h) exponentials, not w·h.
      for (int x = x0; x <= x1; x++) gx_[x - x0] = std::exp(-(x - cx) * (x - cx) * sw2);
      for (int y = y0; y <= y1; y++) gy_[y - y0] = std::exp(-(y - cy) * (y - cy) * sw2);
      for (int y = y0; y <= y1; y++) {
        for (int x = x0; x <= x1; x++) {
          const double dx = x - cx, dy = y - cy;
          const double g = gy_[y - y0] * gx_[x - x0];
          const double wd = g * sign * diff_[static_cast<size_t>(y - y0) * (x1 - x0 + 1) + (x - x0)];
          const double sgm = sigma2_[static_cast<size_t>(y - y0) * (x1 - x0 + 1) + (x - x0)];
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
      const double stepx = 2.0 * sgx / sg, stepy = 2.0 * sgy / sg;
      if (std::fabs(stepx) > 2.0 || std::fabs(stepy) > 2.0) break;  // diverging: keep the last estimate
      if (cx + stepx < x0 || cx + stepx > x1 || cy + stepy < y0 || cy + stepy > y1) break;  // left its window
      cx += stepx;
      cy += stepy;
    }
    const double w2 = gw * gw;
    b.x = static_cast<float>(cx);
    b.y = static_cast<float>(cy);
    // var = 4·Σg²σ²(x−x̄)²/(Σg·d)² (the windowed centroid's error propagation); a blob whose
    // window never settled keeps a uniform pixel's 1/12.
    b.var_x = static_cast<float>(w2 > 0 ? 4.0 * vxx / w2 : 1.0 / 12.0);
    b.var_y = static_cast<float>(w2 > 0 ? 4.0 * vyy / w2 : 1.0 / 12.0);
    b.cov_xy = static_cast<float>(w2 > 0 ? 4.0 * vxy / w2 : 0.0);
    b.flux = static_cast<float>(flux);
    b.snr = static_cast<float>(std::fabs(flux) / std::sqrt(s2));
    // The blob as a whole must stand out as much as one of its pixels had to.
    return b.snr >= p.k_low;
  }

  // Row y's runs; s.d holds its masked pixels' differences in x order, so each run takes the
  // next run-length of them. The row above's runs are complete now: one with no high pixel
  // that touches nothing above or below is a component of its own that never becomes a blob —
  // most of the sky's noise — so only its pixels are counted.
  void runs_of_row(int y, Scratch& s) {
    size_t keep = s.last_row_runs;
    for (size_t r = s.last_row_runs; r < s.runs.size(); r++) {
      const Run& q = s.runs[r];
      if (q.high || q.above || any_bit(s.low.data(), std::max(0, q.x0 - 1), std::min(w, q.x1 + 2))) s.runs[keep++] = q;
      else s.lone_area += q.x1 - q.x0 + 1;
    }
    s.runs.resize(keep);
    s.last_row_runs = keep;
    const float* d = s.d.data();
    for_each_run(s.low.data(), w, [&](int x0, int x1) {
      Run r{y, x0, x1 - 1, any_bit(s.high.data(), x0, x1), any_bit(s.low_above.data(), std::max(0, x0 - 1), std::min(w, x1 + 1)), 0.0f};
      for (int x = x0; x < x1; x++, d++)
        if (std::fabs(*d) > std::fabs(r.peak)) r.peak = *d;
      s.runs.push_back(r);
    });
  }
};

MotionDetector::MotionDetector(int width, int height, int bytes_per_pixel, const MotionParams& params) : impl_(new Impl) {
  if (width <= 0 || height <= 0) throw std::invalid_argument("frame size must be positive, got " + std::to_string(width) + "x" + std::to_string(height));
  if (bytes_per_pixel != 1 && bytes_per_pixel != 2) throw std::invalid_argument("bytes per pixel must be 1 or 2, got " + std::to_string(bytes_per_pixel));
  if (params.tile < 4 || params.tile > 256) throw std::invalid_argument("tile must be in [4, 256], got " + std::to_string(params.tile));
  if (!(params.k_low > 0 && params.k_high >= params.k_low)) throw std::invalid_argument("need 0 < k_low <= k_high");
  if (params.max_blobs < 0) throw std::invalid_argument("max_blobs must be >= 0");
  if (params.noise_hold_frames < MotionParams::kAutoHold) throw std::invalid_argument("noise_hold_frames must be >= 0, or kAutoHold (-1), got " + std::to_string(params.noise_hold_frames));
  if (params.stationary_ring < 2 || params.stationary_ring > 16) throw std::invalid_argument("stationary_ring must be in [2, 16], got " + std::to_string(params.stationary_ring));
  Impl& m = *impl_;
  m.w = width;
  m.h = height;
  m.bpp = bytes_per_pixel;
  m.p = params;
  m.set_ring_masks();
  m.tw = (width + params.tile - 1) / params.tile;
  m.th = (height + params.tile - 1) / params.tile;
  const int want = params.threads > 0 ? params.threads : hardware_threads();
  m.nthreads = std::max(1, std::min(want, m.th));
  m.gpu = cuda::make_pass<cuda::MotionPass>(params.backend, width, height, bytes_per_pixel, params.tile);
  if (!m.gpu) {
    m.bg.assign(static_cast<size_t>(width) * height, 0.0f);
    m.held.assign(static_cast<size_t>(width) * height, 0);
  }
  if (params.noise_correction > 0) {
    m.correction = params.noise_correction;
  } else {
    const double c = params.k_low, phi = std::exp(-0.5 * c * c) / std::sqrt(2 * M_PI), cdf = 0.5 * std::erfc(-c / std::sqrt(2.0));
    m.correction = 1.0 / ((2 * cdf - 1 - 2 * c * phi) + 2 * c * c * (1 - cdf));
  }
  if (params.foreground_hold_frames < 0) throw std::invalid_argument("foreground_hold_frames must be >= 0");
  m.tile_var.assign(static_cast<size_t>(m.tw) * m.th, static_cast<double>(params.min_sigma) * params.min_sigma);
  m.tile_d2.assign(m.tile_var.size(), 0.0);
  m.tile_n.resize(m.tile_var.size());
  for (int ty = 0; ty < m.th; ty++)
    for (int tx = 0; tx < m.tw; tx++) m.tile_n[ty * m.tw + tx] = static_cast<int64_t>(std::min(params.tile, height - ty * params.tile)) * std::min(params.tile, width - tx * params.tile);
  m.scratch.resize(m.nthreads);
  for (auto& s : m.scratch) {
    s.d.resize(width);
    s.col.resize(width);
    s.lo.resize(width);
    s.lo2.resize(width);
    s.per16.resize(3 * static_cast<size_t>(width / 16));
    s.hi.resize(width);
    s.low.resize(rows::words(width));
    s.low_above.resize(rows::words(width));
    s.high.resize(rows::words(width));
    s.cand.resize(rows::words(width));
    s.bytes.resize(width);
    s.upd.resize(width);
  }
}

MotionDetector::~MotionDetector() = default;
int MotionDetector::width() const { return impl_->w; }
int MotionDetector::height() const { return impl_->h; }
int MotionDetector::bytes_per_pixel() const { return impl_->bpp; }
int MotionDetector::threads() const { return impl_->nthreads; }
int64_t MotionDetector::frames() const { return impl_->frame_index; }
const char* MotionDetector::backend() const { return impl_->gpu ? "cuda" : "cpu"; }

MotionResult MotionDetector::process(const uint8_t* frame) {
  Impl& m = *impl_;
  MotionResult result;
  const int64_t n = m.frame_index++;
  if (m.bpp == 2 && reinterpret_cast<uintptr_t>(frame) % alignof(uint16_t) != 0) {
    // The passes read 16-bit pixels as such: an odd address is copied first.
    m.aligned.assign(frame, frame + static_cast<size_t>(m.w) * m.h * 2);
    frame = m.aligned.data();
  }
  m.follow_repeats(frame);
  result.coded = m.coded();
  if (n == 0) {
    m.refresh_sigmas();
    m.first_frame(frame);
    result.warming_up = true;
    return result;
  }
  const bool warm = n <= m.p.warmup_frames;
  // While warming up: plain running means (1/n), every pixel, no detections.
  const float a_bg = warm ? std::max(m.p.alpha, 1.0f / static_cast<float>(n + 1)) : m.p.alpha;
  const float a_fg = warm ? a_bg : m.p.alpha_foreground;
  const double beta = warm ? std::max(static_cast<double>(m.p.noise_alpha), 1.0 / static_cast<double>(n)) : m.p.noise_alpha;
  m.diff_factor = 1.0 + m.bg_var;
  m.refresh_sigmas();
  std::fill(m.tile_d2.begin(), m.tile_d2.end(), 0.0);
  for (auto& s : m.scratch) {
    s.runs.clear();
    s.last_row_runs = 0;
    s.lone_area = 0;
    s.kept.clear();
  }

  if (m.gpu) {
    m.gpu_pass(frame, a_bg, a_fg, !warm);
  } else {
    // Stripes of whole tile rows, so no two threads touch one tile's sums.
    const int T = m.p.tile;
    std::vector<std::thread> pool;
    std::vector<std::pair<int, int>> stripes;
    for (int i = 0; i < m.nthreads; i++) {
      const int t0 = static_cast<int>(static_cast<int64_t>(m.th) * i / m.nthreads);
      const int t1 = static_cast<int>(static_cast<int64_t>(m.th) * (i + 1) / m.nthreads);
      stripes.emplace_back(t0 * T, std::min(m.h, t1 * T));
    }
    for (int i = 1; i < m.nthreads; i++) pool.emplace_back([&, i] { m.stripe(frame, stripes[i].first, stripes[i].second, m.scratch[i], a_bg, a_fg, !warm); });
    m.stripe(frame, stripes[0].first, stripes[0].second, m.scratch[0], a_bg, a_fg, !warm);
    for (auto& t : pool) t.join();
  }
  m.kept.clear();
  for (auto& s : m.scratch) m.kept.insert(m.kept.end(), s.kept.begin(), s.kept.end());  // stripes in row order: sorted

  // The first difference frame's unwinsorised variance replaces the prior outright.
  const double b = m.noise_known ? beta : 1.0, correction = m.noise_known ? m.correction : 1.0;
  // With a hold, the estimate is never below this frame's sample nor its own last value decayed.
  const int hold = m.hold_frames();
  const double release = m.noise_known && hold > 0 ? std::exp(-1.0 / hold) : 0.0;
  for (size_t i = 0; i < m.tile_var.size(); i++) {
    if (m.tile_n[i] == 0) continue;
    const double sample = m.tile_d2[i] / static_cast<double>(m.tile_n[i]) * correction / m.diff_factor;
    const double mean = (1.0 - b) * m.tile_var[i] + b * sample;
    m.tile_var[i] = release > 0.0 ? std::max({mean, sample, m.tile_var[i] * release}) : mean;
  }
  m.noise_known = true;
  const double a = a_bg;
  m.bg_var = (1.0 - a) * (1.0 - a) * m.bg_var + a * a;
  result.warming_up = warm;
  if (warm) return result;

  // Runs in row order (stripes are in row order), then 8-connected union-find across rows.
  std::vector<Run> runs;
  for (auto& s : m.scratch) {
    runs.insert(runs.end(), s.runs.begin(), s.runs.end());
    result.foreground_pixels += s.lone_area;
  }
  std::vector<int32_t> parent(runs.size());
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](int32_t a) {
    while (parent[a] != a) a = parent[a] = parent[parent[a]];
    return a;
  };
  size_t prev_begin = 0, prev_end = 0, i = 0;
  while (i < runs.size()) {
    const int32_t y = runs[i].y;
    size_t j = i;
    while (j < runs.size() && runs[j].y == y) j++;
    if (prev_end > prev_begin && runs[prev_begin].y == y - 1) {
      for (size_t b = i; b < j; b++) {
        // Most runs (the sky's noise) touch nothing above: runs_of_row looked at its bits.
        if (!runs[b].above) continue;
        const auto first = std::lower_bound(runs.begin() + prev_begin, runs.begin() + prev_end, runs[b].x0 - 1, [](const Run& r, int32_t x) { return r.x1 < x; });
        for (size_t c = first - runs.begin(); c < prev_end && runs[c].x0 <= runs[b].x1 + 1; c++) {
          const int32_t ra = find(static_cast<int32_t>(c)), rb = find(static_cast<int32_t>(b));
          if (ra != rb) parent[std::max(ra, rb)] = std::min(ra, rb);
        }
      }
    }
    prev_begin = i;
    prev_end = j;
    i = j;
  }

  // Only components with a high pixel become blobs: their roots (each component's smallest
  // run index), in increasing order, get a slot; every run counts towards the foreground.
  std::vector<int32_t>& slot = m.slot;
  slot.assign(runs.size(), -1);
  std::vector<int32_t> roots;
  for (size_t r = 0; r < runs.size(); r++)
    if (runs[r].high) roots.push_back(find(static_cast<int32_t>(r)));
  std::sort(roots.begin(), roots.end());
  roots.erase(std::unique(roots.begin(), roots.end()), roots.end());
  for (size_t k = 0; k < roots.size(); k++) slot[roots[k]] = static_cast<int32_t>(k);
  std::vector<Acc> acc(roots.size());
  for (size_t r = 0; r < runs.size(); r++) {
    const Run& run = runs[r];
    result.foreground_pixels += run.x1 - run.x0 + 1;
    const int32_t k = slot[find(static_cast<int32_t>(r))];
    if (k < 0) continue;
    Acc& a = acc[k];
    if (std::fabs(run.peak) > std::fabs(a.peak)) a.peak = run.peak;
    a.area += run.x1 - run.x0 + 1;
    a.x0 = std::min(a.x0, run.x0);
    a.x1 = std::max(a.x1, run.x1);
    a.y0 = std::min(a.y0, run.y);
    a.y1 = std::max(a.y1, run.y);
  }
  for (const Acc& a : acc) {
    Blob b{};
    if (!m.window_moments(frame, a.x0, a.y0, a.x1, a.y1, a.peak < 0 ? -1.0f : 1.0f, a_bg, a_fg, b)) continue;
    b.area = static_cast<float>(a.area);
    b.peak = a.peak;
    b.x0 = a.x0;
    b.y0 = a.y0;
    b.x1 = a.x1;
    b.y1 = a.y1;
    result.blobs.push_back(b);
  }
  // Strongest first; ties by position, so the order is the same on every path.
  std::sort(result.blobs.begin(), result.blobs.end(), [](const Blob& p, const Blob& q) {
    if (p.snr != q.snr) return p.snr > q.snr;
    if (p.y0 != q.y0) return p.y0 < q.y0;
    return p.x0 < q.x0;
  });
  if (static_cast<int>(result.blobs.size()) > m.p.max_blobs) {
    result.overflow = static_cast<int32_t>(result.blobs.size()) - m.p.max_blobs;
    result.blobs.resize(m.p.max_blobs);
  }
  return result;
}

}  // namespace skyvox
