// Row kernels of the motion pixel pass (motion.cpp): the per-pixel work of one row, in a
// portable version (auto-vectorised, AVX2 or plain x86-64 chosen at load time) and an AVX-512
// one written by hand. Both do the same float operations in the same order, so their outputs
// are identical bit for bit; masks come out as bits, 64 pixels a word (bit b of word k: pixel
// 64k + b), so the sparse foreground is found a word at a time.
#pragma once

#include <cstdint>

namespace skyvox::rows {

// Per-pixel thresholds of a row: the mask's low and high, and low² (the winsorisation).
struct Thresholds {
  const float* lo;
  const float* hi;
  const float* lo2;
  // Or null: the same, once per 16 pixels (lo, hi, lo² of pixels 16v … 16v + 15 at 3v), where
  // noise tiles are a multiple of 16 pixels wide.
  const float* per16;
};

// The pass's learning rates and the hold (frames a masked pixel learns slowly).
struct Rates {
  float a_bg, a_fg;
  uint8_t hold;
};

// One row's stationary point candidates: pixel c[i] differs from each q[k][i] (the eight ring
// pixels, rows lined up with c) by more than floor_pre[i], all in one sign; bit i of `out`.
template <typename Pix>
struct CandidateRow {
  const Pix* c;
  const Pix* q[8];
  const Pix* floor_pre;
  uint64_t* out;
  int n;
};

// The pixel pass over n pixels of one row: differences d = frame − background, the masks
// |d| > lo (low) and |d| > hi (high) as bits, the hold counts, the background update, and
// each column's winsorised squared difference added to `col`. Only the masked pixels' d are
// kept, in x order (room for n floats): the pass returns how many. `also` (or null): another
// row's candidate pass, done in the same loop so that its arithmetic overlaps this pass's
// memory traffic. `bytes`: n bytes of scratch.
int pixel_pass(const uint8_t* px, float* bg, uint8_t* held, float* d, float* col, uint64_t* low, uint64_t* high, int n, Thresholds t, Rates r, const CandidateRow<uint8_t>* also, uint8_t* bytes);
int pixel_pass(const uint16_t* px, float* bg, uint8_t* held, float* d, float* col, uint64_t* low, uint64_t* high, int n, Thresholds t, Rates r, const CandidateRow<uint16_t>* also, uint8_t* bytes);

// A candidate pass on its own. `bytes`: row.n bytes of scratch.
void candidates(const CandidateRow<uint8_t>& row, uint8_t* bytes);
void candidates(const CandidateRow<uint16_t>& row, uint8_t* bytes);

// Whether the hand-written AVX-512 kernels run (the CPU has AVX-512 BW/VL/DQ and they are not
// turned off).
bool avx512();

// Turns the AVX-512 kernels off (true) or back on where the CPU has them: the standalone test
// compares the two paths.
void force_portable(bool on);

// Words holding n bits.
constexpr int words(int n) { return (n + 63) / 64; }

}  // namespace skyvox::rows
