// The CUDA side in a build without nvcc: status says so, and no pass can be made.
#include <stdexcept>

#include "motion_cuda.hpp"
#include "voxel_cuda.hpp"

namespace skyvox::cuda {

Status status() {
  Status s;
  s.reason = "this build has no CUDA kernels: nvcc was not on the PATH when it was built";
  return s;
}

struct MotionPass::Impl {};

MotionPass::MotionPass(int, int, int, int) { throw std::runtime_error(status().reason); }
MotionPass::~MotionPass() = default;
void MotionPass::load(const uint8_t*) {}
bool MotionPass::candidates(int, const std::vector<uint32_t>&, std::vector<uint32_t>&) { return false; }
void MotionPass::first(const std::vector<uint32_t>&, const std::vector<float>&) {}
void MotionPass::frame(const std::vector<float>&, const std::vector<float>&, float, float, uint8_t, const std::vector<uint32_t>&, const std::vector<float>&, std::vector<float>&, std::vector<double>&, bool,
                       std::vector<RunOut>&) {}
void MotionPass::window(int, int, int, int, float*, uint8_t*) {}

struct VoxelPass::Impl {};

VoxelPass::VoxelPass(const walk::Grid&, size_t, size_t, const std::vector<double>&) { throw std::runtime_error(status().reason); }
VoxelPass::~VoxelPass() = default;
void VoxelPass::set_level_map(const uint8_t*) {}
void VoxelPass::walk(const std::vector<DeviceRay>&, std::vector<uint64_t>&, std::vector<uint16_t>&) {}
void VoxelPass::vote(const std::vector<uint32_t>&, const std::vector<uint32_t>&, uint32_t, int, std::vector<uint64_t>&) {}
void VoxelPass::test(const std::vector<uint64_t>&, const std::vector<uint64_t>&, const std::vector<uint32_t>&, int, const std::vector<uint64_t>&, uint32_t, std::vector<CandidateTest>&) {}

}  // namespace skyvox::cuda
