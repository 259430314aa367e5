// Whether this build has the CUDA kernels (motion_cuda.cu, voxel_cuda.cu) and a device can
// run them; defined in motion_cuda.cu, or in cuda_none.cpp when the build has no nvcc.
#pragma once
#include <string>

namespace skyvox::cuda {

// If not available, why not.
struct Status {
  bool built = false;
  bool available = false;
  std::string device;  // name of device 0 when available
  std::string reason;  // why not, when not available
};
Status status();

}  // namespace skyvox::cuda
