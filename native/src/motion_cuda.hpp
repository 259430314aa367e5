// The CUDA twin of the motion kernel's pixel pass (motion_cuda.cu), behind a plain C++
// interface so motion.cpp compiles with g++ alone. The GPU does the per-pixel work —
// background, hold counts, mask, the noise tiles' sums and the mask's runs — with the CPU
// pass's float and double arithmetic, in the same order (nvcc -fmad=false: no fused
// multiply-adds), so both give the same runs and sums bit for bit. The sparse rest (stationary
// points, components, blob moments) stays on the host, shared with the CPU path.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cuda_status.hpp"

namespace skyvox::cuda {

// A run of masked pixels in one row, as the CPU pass makes them.
struct RunOut {
  int32_t y, x0, x1, high;
  float peak;
};

// One camera's pixel pass on the device: its own stream, pinned upload buffer and state.
class MotionPass {
 public:
  // Throws std::runtime_error (with CUDA's words) when the device or memory is not there.
  MotionPass(int width, int height, int bytes_per_pixel, int tile);
  ~MotionPass();
  MotionPass(const MotionPass&) = delete;
  MotionPass& operator=(const MotionPass&) = delete;

  // Uploads a frame (width · height pixels, 8-bit or little-endian 16-bit) for the calls below.
  void load(const uint8_t* frame);

  // The loaded frame's stationary-target candidates (motion.cpp's candidate pass): pixels
  // R ≤ x < w − R, R ≤ y < h − R whose eight ring pixels straight and diagonally across all
  // differ from them, in one sign, by more than their tile's ⌊pre⌋; as y·w + x, ascending.
  // False when there are more than its list holds (the caller then finds them itself).
  bool candidates(int ring, const std::vector<uint32_t>& floor_pre_tile, std::vector<uint32_t>& out);

  // The loaded frame, the first, is the background, except at `idx` (sorted pixel indices) where it is `val`.
  void first(const std::vector<uint32_t>& idx, const std::vector<float>& val);

  // The loaded frame: thresholds per noise tile (lo, hi), learning rates, hold; pixels `idx`
  // learn `upd` instead of themselves and their background before the update comes back in
  // `kept`. `tile_d2` (tiles_x · tiles_y) receives this frame's winsorised squared differences
  // per tile; with `detect`, `runs` the mask's runs in row order (else it is left empty).
  void frame(const std::vector<float>& lo_tile, const std::vector<float>& hi_tile, float a_bg, float a_fg, uint8_t hold, const std::vector<uint32_t>& idx, const std::vector<float>& upd,
             std::vector<float>& kept, std::vector<double>& tile_d2, bool detect, std::vector<RunOut>& runs);

  // The background and hold counts of the window [x0, x1] × [y0, y1], row by row.
  void window(int x0, int y0, int x1, int y1, float* bg, uint8_t* held);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace skyvox::cuda
