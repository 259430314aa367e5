// What both CUDA twins (motion_cuda.cu, voxel_cuda.cu) start from: the CUDA runtime — or, when
// the tests compile them as C++ (SKYVOX_CUDA_EMULATION), native/test/cuda_emulation.hpp, which
// runs each launch's threads one after another on the host — a launch macro both understand,
// and the error check and grid size every launch uses.
#pragma once
#ifdef SKYVOX_CUDA_EMULATION
#include "../test/cuda_emulation.hpp"
#else
#include <cuda_runtime.h>
#define LAUNCH(kernel, grid, block, stream, ...) kernel<<<(grid), (block), 0, (stream)>>>(__VA_ARGS__)
#endif

#include <cstddef>
#include <stdexcept>
#include <string>

namespace skyvox::cuda {

// Throws with CUDA's words when a call failed.
inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
}

// Blocks of `per` threads for n items.
inline unsigned int blocks(size_t n, unsigned int per) { return static_cast<unsigned int>((n + per - 1) / per); }

}  // namespace skyvox::cuda
