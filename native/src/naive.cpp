// The benchmark's scalar baseline (see naive.hpp): one pixel at a time, no SIMD, no threads.
#include "skyvox/naive.hpp"

#include <cstdlib>
#include <vector>

namespace skyvox {

int naive_motion(const uint8_t* prev, const uint8_t* cur, int width, int height, int threshold) {
  const size_t n = static_cast<size_t>(width) * height;
  std::vector<uint8_t> mask(n);
  for (size_t i = 0; i < n; i++) mask[i] = std::abs(static_cast<int>(cur[i]) - static_cast<int>(prev[i])) > threshold;
  std::vector<int32_t> stack;
  int blobs = 0;
  for (size_t i = 0; i < n; i++) {
    if (!mask[i]) continue;
    blobs++;
    mask[i] = 0;
    stack.push_back(static_cast<int32_t>(i));
    while (!stack.empty()) {
      const int32_t p = stack.back();
      stack.pop_back();
      const int x = p % width, y = p / width;
      for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
          const int nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const size_t q = static_cast<size_t>(ny) * width + nx;
          if (mask[q]) {
            mask[q] = 0;
            stack.push_back(static_cast<int32_t>(q));
          }
        }
    }
  }
  return blobs;
}

}  // namespace skyvox
