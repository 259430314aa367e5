// Row kernels of the motion pixel pass; see motion_rows.hpp. The portable kernels are the
// definition (kernels/motion-reference.ts repeats them in TypeScript); the AVX-512 ones do the
// same operations on 64 pixels at a time, with the masks kept in mask registers.
#include "motion_rows.hpp"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstring>

namespace skyvox::rows {
namespace {

// How far ahead of the pixel pass the background and hold counts are fetched: 2 KiB of
// background (256–1024 pixels measured alike on an 8K frame). The hardware prefetcher stops at
// every 4 KiB page — a thousand pixels of background. A prefetch past the frame's end is
// harmless: it never faults.
constexpr int kPrefetchPixels = 512;

// The address n elements past p, for a prefetch: reckoned as an integer, since near the frame's
// end it lies past the array, where pointer arithmetic is not defined.
template <typename T>
inline const void* ahead(const T* p, int n) {
  return reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(p) + sizeof(T) * static_cast<size_t>(n));
}

// The pixel pass over one row (portable), with the mask as bytes: 0, 1 (low) or 2 (high).
// The background learns each pixel itself; where a stationary point target sits it learns the
// ring's mean instead, patched in afterwards by the caller with the same expression.
template <typename Pix>
__attribute__((always_inline)) inline void pixel_row(const Pix* __restrict px, float* __restrict bg, uint8_t* __restrict held, float* __restrict d, float* __restrict col, uint8_t* __restrict mask, int n, const float* __restrict lo_row, const float* __restrict hi_row, const float* __restrict lo2_row, float a_bg, float a_fg, uint8_t hold) {
  for (int b = 0; b < n; b += 64) {
    for (int k = 0; k < 64; k += 16) __builtin_prefetch(ahead(bg, b + kPrefetchPixels + k));
    __builtin_prefetch(ahead(held, b + kPrefetchPixels));
    for (int i = b; i < std::min(n, b + 64); i++) {
      const float v = static_cast<float>(px[i]);
      const float di = v - bg[i];
      const float ad = std::fabs(di);
      const bool low = ad > lo_row[i];
      const bool high = ad > hi_row[i];
      // Masked pixels learn slowly, so slow targets are not absorbed — but only for `hold`
      // frames in a row: what stays different longer (a ghost where a target sat during
      // start-up, a changed scene) is learned at the normal rate.
      const uint8_t h = low ? static_cast<uint8_t>(held[i] < 255 ? held[i] + 1 : 255) : 0;
      held[i] = h;
      bg[i] = bg[i] + ((low && h <= hold) ? a_fg : a_bg) * (v - bg[i]);
      d[i] = di;
      // Winsorised at lo², not truncated: a target adds little to its tile's noise estimate,
      // and when the noise grows every pixel says so at once.
      col[i] = col[i] + std::min(di * di, lo2_row[i]);
      mask[i] = static_cast<uint8_t>(low) + static_cast<uint8_t>(high);
    }
  }
}

// target_clones: AVX-512 or AVX2 code generation where the CPU has it, the portable build
// otherwise, chosen at load time.
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
void pixel_row_u8(const uint8_t* px, float* bg, uint8_t* held, float* d, float* col, uint8_t* mask, int n, const float* lo_row, const float* hi_row, const float* lo2_row, float a_bg, float a_fg, uint8_t hold) {
  pixel_row(px, bg, held, d, col, mask, n, lo_row, hi_row, lo2_row, a_bg, a_fg, hold);
}

__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
void pixel_row_u16(const uint16_t* px, float* bg, uint8_t* held, float* d, float* col, uint8_t* mask, int n, const float* lo_row, const float* hi_row, const float* lo2_row, float a_bg, float a_fg, uint8_t hold) {
  pixel_row(px, bg, held, d, col, mask, n, lo_row, hi_row, lo2_row, a_bg, a_fg, hold);
}

// Keeps the d of the n pixels whose low bit is set, in order, from d[0] on (in place: the
// k-th kept comes from at or after index k); returns how many.
int keep_masked(float* d, const uint64_t* low, int n) {
  int k = 0;
  for (int w = 0; w * 64 < n; w++)
    for (uint64_t m = low[w]; m != 0; m &= m - 1) d[k++] = d[w * 64 + __builtin_ctzll(m)];
  return k;
}

// Bytes to bits: `low` where a byte is not zero, `high` (if given) where it is 2. Eight bytes
// (0, 1 or 2 each) at a time: their low bits gathered into one byte by a multiplication.
inline uint64_t gather8(uint64_t ones) { return (ones * 0x0102040810204080ull) >> 56; }

void pack_bits(const uint8_t* m, int n, uint64_t* low, uint64_t* high) {
  constexpr uint64_t kLsb = 0x0101010101010101ull;
  for (int k = 0; k * 64 < n; k++) {
    const int e = std::min(64, n - k * 64);
    uint64_t lw = 0, hw = 0;
    int i = 0;
    for (; i + 8 <= e; i += 8) {
      uint64_t v;
      std::memcpy(&v, m + static_cast<size_t>(k) * 64 + i, 8);
      lw |= gather8((v | (v >> 1)) & kLsb) << i;
      hw |= gather8((v >> 1) & kLsb) << i;
    }
    for (; i < e; i++) {
      const uint8_t b = m[static_cast<size_t>(k) * 64 + i];
      lw |= static_cast<uint64_t>(b != 0) << i;
      hw |= static_cast<uint64_t>(b == 2) << i;
    }
    low[k] = lw;
    if (high) high[k] = hw;
  }
}

// Stationary point candidates of one row (portable), as bytes 0 or 1. For an integer
// difference, v − q > pre ⇔ v − q > ⌊pre⌋, so `floor_pre` (⌊pre⌋, capped at the largest pixel
// value) decides the reference's float test exactly.
template <typename Pix>
__attribute__((always_inline)) inline void candidate_row(const Pix* __restrict c, const Pix* const* q, const Pix* __restrict floor_pre, uint8_t* __restrict out, int n) {
  const Pix *__restrict q0 = q[0], *__restrict q1 = q[1], *__restrict q2 = q[2], *__restrict q3 = q[3];
  const Pix *__restrict q4 = q[4], *__restrict q5 = q[5], *__restrict q6 = q[6], *__restrict q7 = q[7];
  for (int i = 0; i < n; i++) {
    const Pix hi = std::max(std::max(std::max(q0[i], q1[i]), std::max(q2[i], q3[i])), std::max(std::max(q4[i], q5[i]), std::max(q6[i], q7[i])));
    const Pix lo = std::min(std::min(std::min(q0[i], q1[i]), std::min(q2[i], q3[i])), std::min(std::min(q4[i], q5[i]), std::min(q6[i], q7[i])));
    const Pix above = c[i] > hi ? static_cast<Pix>(c[i] - hi) : 0;
    const Pix below = lo > c[i] ? static_cast<Pix>(lo - c[i]) : 0;
    out[i] = static_cast<uint8_t>((above > floor_pre[i]) | (below > floor_pre[i]));
  }
}

__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
void candidate_row_u8(const uint8_t* c, const uint8_t* const* q, const uint8_t* floor_pre, uint8_t* out, int n) { candidate_row(c, q, floor_pre, out, n); }

__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
void candidate_row_u16(const uint16_t* c, const uint16_t* const* q, const uint16_t* floor_pre, uint8_t* out, int n) { candidate_row(c, q, floor_pre, out, n); }

void portable_row(const uint8_t* px, float* bg, uint8_t* held, float* d, float* col, uint8_t* mask, int n, Thresholds t, Rates r) {
  pixel_row_u8(px, bg, held, d, col, mask, n, t.lo, t.hi, t.lo2, r.a_bg, r.a_fg, r.hold);
}
void portable_row(const uint16_t* px, float* bg, uint8_t* held, float* d, float* col, uint8_t* mask, int n, Thresholds t, Rates r) {
  pixel_row_u16(px, bg, held, d, col, mask, n, t.lo, t.hi, t.lo2, r.a_bg, r.a_fg, r.hold);
}
void portable_candidates(const uint8_t* c, const uint8_t* const* q, const uint8_t* f, uint8_t* out, int n) { candidate_row_u8(c, q, f, out, n); }
void portable_candidates(const uint16_t* c, const uint16_t* const* q, const uint16_t* f, uint8_t* out, int n) { candidate_row_u16(c, q, f, out, n); }

// A candidate row's pixels from `from` (a multiple of 64) on, portable, into its bits.
template <typename Pix>
void portable_candidates_from(const CandidateRow<Pix>& cr, int from, uint8_t* bytes) {
  if (from >= cr.n) return;
  const Pix* q[8];
  for (int k = 0; k < 8; k++) q[k] = cr.q[k] + from;
  portable_candidates(cr.c + from, q, cr.floor_pre + from, bytes, cr.n - from);
  pack_bits(bytes, cr.n - from, cr.out + from / 64, nullptr);
}

#define SKYVOX_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))
// GCC 12 warns inside its own intrinsics (their _mm512_undefined_* pass-through operands).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

// Sixteen pixels as floats (integers, exact).
template <typename Pix>
SKYVOX_AVX512 inline __m512 load16(const Pix* p) {
  if constexpr (sizeof(Pix) == 1) return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  else return _mm512_cvtepi32_ps(_mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
}

// 64 bytes of p from element i; with `lanes` (elements, fewer than a vector's) only those are
// read, the rest zero (a row's last word: nothing past its end is touched).
template <typename Pix>
SKYVOX_AVX512 inline __m512i load512(const Pix* p, int i, int lanes) {
  if (lanes >= static_cast<int>(64 / sizeof(Pix))) return _mm512_loadu_si512(p + i);
  if constexpr (sizeof(Pix) == 1) return _mm512_maskz_loadu_epi8((1ull << lanes) - 1, p + i);
  else return _mm512_maskz_loadu_epi16(static_cast<__mmask32>((1u << lanes) - 1), p + i);
}

// candidate_row over one vector (64 8-bit or 32 16-bit pixels from i, or `lanes` of them):
// saturating differences to the ring's maximum and minimum.
template <typename Pix>
SKYVOX_AVX512 inline uint64_t candidate_step(const Pix* c, const Pix* const* q, const Pix* f, int i, int lanes) {
  __m512i v[8];
  for (int k = 0; k < 8; k++) v[k] = load512(q[k], i, lanes);
  const __m512i x = load512(c, i, lanes), fl = load512(f, i, lanes);
  if constexpr (sizeof(Pix) == 1) {
    const __m512i hi = _mm512_max_epu8(_mm512_max_epu8(_mm512_max_epu8(v[0], v[1]), _mm512_max_epu8(v[2], v[3])), _mm512_max_epu8(_mm512_max_epu8(v[4], v[5]), _mm512_max_epu8(v[6], v[7])));
    const __m512i lo = _mm512_min_epu8(_mm512_min_epu8(_mm512_min_epu8(v[0], v[1]), _mm512_min_epu8(v[2], v[3])), _mm512_min_epu8(_mm512_min_epu8(v[4], v[5]), _mm512_min_epu8(v[6], v[7])));
    return _cvtmask64_u64(_kor_mask64(_mm512_cmpgt_epu8_mask(_mm512_subs_epu8(x, hi), fl), _mm512_cmpgt_epu8_mask(_mm512_subs_epu8(lo, x), fl)));
  } else {
    const __m512i hi = _mm512_max_epu16(_mm512_max_epu16(_mm512_max_epu16(v[0], v[1]), _mm512_max_epu16(v[2], v[3])), _mm512_max_epu16(_mm512_max_epu16(v[4], v[5]), _mm512_max_epu16(v[6], v[7])));
    const __m512i lo = _mm512_min_epu16(_mm512_min_epu16(_mm512_min_epu16(v[0], v[1]), _mm512_min_epu16(v[2], v[3])), _mm512_min_epu16(_mm512_min_epu16(v[4], v[5]), _mm512_min_epu16(v[6], v[7])));
    return _cvtmask32_u32(_kor_mask32(_mm512_cmpgt_epu16_mask(_mm512_subs_epu16(x, hi), fl), _mm512_cmpgt_epu16_mask(_mm512_subs_epu16(lo, x), fl)));
  }
}

// A candidate row's word at pixel i (a multiple of 64), of its `lanes` pixels from there.
template <typename Pix>
SKYVOX_AVX512 inline uint64_t candidate_word(const CandidateRow<Pix>& cr, int i, int lanes = 64) {
  if constexpr (sizeof(Pix) == 1) return candidate_step(cr.c, cr.q, cr.floor_pre, i, lanes);
  else {
    const uint64_t first = candidate_step(cr.c, cr.q, cr.floor_pre, i, lanes);
    return lanes > 32 ? first | (candidate_step(cr.c, cr.q, cr.floor_pre, i + 32, lanes - 32) << 32) : first;
  }
}

// A candidate row's words from pixel `from` (a multiple of 64) on.
template <typename Pix>
SKYVOX_AVX512 void candidates_from(const CandidateRow<Pix>& cr, int from) {
  int i = from;
  for (; i + 64 <= cr.n; i += 64) cr.out[i / 64] = candidate_word(cr, i);
  if (i < cr.n) cr.out[i / 64] = candidate_word(cr, i, cr.n - i);
}

// pixel_row, 64 pixels a step. Per pixel the same operations: v − bg; |·| > lo, > hi (ordered
// compares, as C's >); the hold count's saturating +1; bg + rate·(v − bg) as a multiply and an
// add; min(lo², d²) chooses lo² only when it is smaller, as std::min(d², lo²) does.
template <typename Pix>
SKYVOX_AVX512 int pixel_row_avx512(const Pix* __restrict px, float* __restrict bg, uint8_t* __restrict held, float* __restrict d, float* __restrict col, uint64_t* __restrict lowbits, uint64_t* __restrict highbits, int n, Thresholds t, Rates r, const CandidateRow<Pix>* also, uint8_t* bytes) {
  const __m512 vbg = _mm512_set1_ps(r.a_bg), vfg = _mm512_set1_ps(r.a_fg);
  const __m512i one = _mm512_set1_epi8(1), vhold = _mm512_set1_epi8(static_cast<char>(r.hold));
  int i = 0, kept = 0;
  for (; i + 64 <= n; i += 64) {
    if (also && i + 64 <= also->n) also->out[i / 64] = candidate_word(*also, i);
    for (int k = 0; k < 4; k++) _mm_prefetch(static_cast<const char*>(ahead(bg, i + kPrefetchPixels + 16 * k)), _MM_HINT_T0);
    _mm_prefetch(static_cast<const char*>(ahead(held, i + kPrefetchPixels)), _MM_HINT_T0);
    __m512 di[4];
    __mmask16 lo[4], hi[4];
    for (int k = 0; k < 4; k++) {
      const int j = i + 16 * k;
      di[k] = _mm512_sub_ps(load16(px + j), _mm512_loadu_ps(bg + j));
      const __m512 ad = _mm512_abs_ps(di[k]);
      const float* v16 = t.per16 ? t.per16 + 3 * (j >> 4) : nullptr;
      const __m512 tlo = v16 ? _mm512_set1_ps(v16[0]) : _mm512_loadu_ps(t.lo + j);
      const __m512 thi = v16 ? _mm512_set1_ps(v16[1]) : _mm512_loadu_ps(t.hi + j);
      const __m512 tlo2 = v16 ? _mm512_set1_ps(v16[2]) : _mm512_loadu_ps(t.lo2 + j);
      lo[k] = _mm512_cmp_ps_mask(ad, tlo, _CMP_GT_OQ);
      hi[k] = _mm512_cmp_ps_mask(ad, thi, _CMP_GT_OQ);
      if (lo[k] != 0) {
        _mm512_mask_compressstoreu_ps(d + kept, lo[k], di[k]);
        kept += __builtin_popcount(lo[k]);
      }
      _mm512_storeu_ps(col + j, _mm512_add_ps(_mm512_loadu_ps(col + j), _mm512_min_ps(tlo2, _mm512_mul_ps(di[k], di[k]))));
    }
    const __mmask64 low = _mm512_kunpackd(_mm512_kunpackw(lo[3], lo[2]), _mm512_kunpackw(lo[1], lo[0]));
    const __m512i was = _mm512_loadu_si512(held + i);
    const __m512i h = _mm512_maskz_adds_epu8(low, was, one);
    // Most of the sky's counts stay 0: a line left unwritten is not written back to memory.
    _mm512_mask_storeu_epi8(held + i, _mm512_cmpneq_epu8_mask(h, was), h);
    const __mmask64 slow = _kand_mask64(low, _mm512_cmple_epu8_mask(h, vhold));
    for (int k = 0; k < 4; k++) {
      const int j = i + 16 * k;
      const __m512 rate = _mm512_mask_blend_ps(static_cast<__mmask16>(slow >> (16 * k)), vbg, vfg);
      _mm512_storeu_ps(bg + j, _mm512_add_ps(_mm512_loadu_ps(bg + j), _mm512_mul_ps(rate, di[k])));
    }
    lowbits[i / 64] = _cvtmask64_u64(low);
    // High counts only where low holds too, as the byte mask's 2 does.
    highbits[i / 64] = _cvtmask64_u64(_kand_mask64(low, _mm512_kunpackd(_mm512_kunpackw(hi[3], hi[2]), _mm512_kunpackw(hi[1], hi[0]))));
  }
  if (i < n) {
    // The tail's d go after those kept (kept ≤ i: there is room), then are thinned in place.
    portable_row(px + i, bg + i, held + i, d + kept, col + i, bytes, n - i, Thresholds{t.lo + i, t.hi + i, t.lo2 + i, nullptr}, r);
    pack_bits(bytes, n - i, lowbits + i / 64, highbits + i / 64);
    kept += keep_masked(d + kept, lowbits + i / 64, n - i);
  }
  if (also) candidates_from(*also, std::min(i, also->n / 64 * 64));
  return kept;
}

#pragma GCC diagnostic pop

std::atomic<bool> portable_forced{false};

bool cpu_has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}

template <typename Pix>
int pass_of(const Pix* px, float* bg, uint8_t* held, float* d, float* col, uint64_t* low, uint64_t* high, int n, Thresholds t, Rates r, const CandidateRow<Pix>* also, uint8_t* bytes) {
  if (avx512()) return pixel_row_avx512(px, bg, held, d, col, low, high, n, t, r, also, bytes);
  portable_row(px, bg, held, d, col, bytes, n, t, r);
  pack_bits(bytes, n, low, high);
  const int kept = keep_masked(d, low, n);
  if (also) portable_candidates_from(*also, 0, bytes);
  return kept;
}

template <typename Pix>
void candidates_of(const CandidateRow<Pix>& row, uint8_t* bytes) {
  if (avx512()) return candidates_from(row, 0);
  portable_candidates_from(row, 0, bytes);
}

}  // namespace

bool avx512() {
  static const bool has = cpu_has_avx512();
  return has && !portable_forced.load(std::memory_order_relaxed);
}

void force_portable(bool on) { portable_forced.store(on); }

int pixel_pass(const uint8_t* px, float* bg, uint8_t* held, float* d, float* col, uint64_t* low, uint64_t* high, int n, Thresholds t, Rates r, const CandidateRow<uint8_t>* also, uint8_t* bytes) { return pass_of(px, bg, held, d, col, low, high, n, t, r, also, bytes); }
int pixel_pass(const uint16_t* px, float* bg, uint8_t* held, float* d, float* col, uint64_t* low, uint64_t* high, int n, Thresholds t, Rates r, const CandidateRow<uint16_t>* also, uint8_t* bytes) { return pass_of(px, bg, held, d, col, low, high, n, t, r, also, bytes); }
void candidates(const CandidateRow<uint8_t>& row, uint8_t* bytes) { candidates_of(row, bytes); }
void candidates(const CandidateRow<uint16_t>& row, uint8_t* bytes) { candidates_of(row, bytes); }

}  // namespace skyvox::rows
