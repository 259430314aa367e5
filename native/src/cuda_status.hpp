// Whether this build has the CUDA kernels (motion_cuda.cu, voxel_cuda.cu) and a device can
// run them; defined in motion_cuda.cu, or in cuda_none.cpp when the build has no nvcc.
#pragma once
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace skyvox::cuda {

// If not available, why not.
struct Status {
  bool built = false;
  bool available = false;
  std::string device;  // name of device 0 when available
  std::string reason;  // why not, when not available
};
Status status();

// A kernel's device pass for its `backend` setting (0 auto, 1 cpu, 2 cuda, as MotionParams and
// VoxelParams number them): auto takes a device that answers and can hold the pass, else none;
// cpu none; cuda insists, and says why it cannot.
template <typename Pass, typename... Args>
std::unique_ptr<Pass> make_pass(int backend, Args&&... args) {
  if (backend < 0 || backend > 2) throw std::invalid_argument("backend must be auto (0), cpu (1) or cuda (2), got " + std::to_string(backend));
  if (backend == 1) return nullptr;
  const Status gpu = status();
  if (backend == 2 && !gpu.available) throw std::invalid_argument("backend cuda: " + gpu.reason);
  if (!gpu.available) return nullptr;
  try {
    return std::make_unique<Pass>(std::forward<Args>(args)...);
  } catch (const std::exception& e) {
    if (backend == 2) throw std::runtime_error(std::string("backend cuda: ") + e.what());
    return nullptr;  // auto: a device that cannot hold it leaves the work to the CPU
  }
}

}  // namespace skyvox::cuda
