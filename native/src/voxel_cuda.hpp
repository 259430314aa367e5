// The CUDA twin of the voxel kernel's cast and peak test (voxel_cuda.cu), behind a plain C++
// interface so voxel.cpp compiles with g++ alone. The device walks the rays (voxel_walk.hpp),
// casts the votes and tests the peak candidates; the host keeps the bricks' bookkeeping (table,
// LRU, budget, evictions) and runs it over the walk's steps in ray order exactly as the CPU cast
// does, so bricks, evictions and lost votes are the CPU's. Votes are summed one voxel per
// thread in ray order (-fmad=false), so weights are the CPU's bit for bit, and so are peaks.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "cuda_status.hpp"
#include "voxel_walk.hpp"

namespace skyvox::cuda {

// A ray as the device takes it.
struct DeviceRay {
  double origin[3], dir[3];
  float weight;
  int32_t camera;
};

// A peak candidate's test on the device: its weight, the cameras around it, whether it is a
// local maximum among its 26 neighbours at its level (motion of voxel.cpp's peaks()).
struct CandidateTest {
  float weight;
  int32_t peak;
  uint64_t near;
};

class VoxelPass {
 public:
  // Throws std::runtime_error (with CUDA's words) when the device or memory is not there.
  // `decay_pow`: weight kept after k frames, k = 0, 1, …; the pool holds `max_bricks` bricks.
  VoxelPass(const walk::Grid& grid, size_t cells, size_t max_bricks, const std::vector<double>& decay_pow);
  ~VoxelPass();
  VoxelPass(const VoxelPass&) = delete;
  VoxelPass& operator=(const VoxelPass&) = delete;

  // The level map changed (set_cameras).
  void set_level_map(const uint8_t* level_map);

  // Walks every ray; per step in ray order, its brick key and voxel (0–511).
  void walk(const std::vector<DeviceRay>& rays, std::vector<uint64_t>& keys, std::vector<uint16_t>& voxels);

  // Casts the last walk's votes: step i goes to brick ids[i] (~0u: lost) in frame `frame`, whose
  // bricks were (re)born in `born_of`; returns the voxels (id·512 + voxel) that reached
  // `candidate_cameras` cameras this frame, in no particular order.
  void vote(const std::vector<uint32_t>& ids, const std::vector<uint32_t>& born_of, uint32_t frame, int candidate_cameras, std::vector<uint64_t>& candidates);

  // Tests candidates (id·512 + voxel): the brick table as open addressing (keys, ids, shift of
  // the multiplicative hash), every brick's key, frame `frame`.
  void test(const std::vector<uint64_t>& candidates, const std::vector<uint64_t>& table_keys, const std::vector<uint32_t>& table_ids, int shift, const std::vector<uint64_t>& key_of,
            uint32_t frame, std::vector<CandidateTest>& out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace skyvox::cuda
