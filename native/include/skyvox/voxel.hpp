// Sparse voxel voting: rays from camera centres through detections are cast into a sparse
// grid of 8³-voxel bricks whose voxel size grows with range from the cameras; voxels count
// weight and the distinct cameras that hit them; peaks hit by at least K cameras are refined
// by least squares over their rays. Plain C++17; no Node (the CUDA twin: voxel_cuda.cu).
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

namespace skyvox {

struct VoxelParams {
  double min_voxel = 0.125;   // voxel size near the cameras (m); sizes are min_voxel·2^level
  double max_voxel = 2.0;     // ... and never above this
  double lod_ratio = 0.0005;  // wanted voxel size = range · lod_ratio, clamped to [min, max]
  double cell = 32.0;         // level-map cell (m); every voxel size divides it
  std::array<double, 3> world_min{-5000, -5000, -100};
  std::array<double, 3> world_max{5000, 5000, 4900};
  double max_range = 6000;    // rays stop here (m)
  double decay = 0.5;         // weight kept per frame for voxels not hit again
  int min_cameras = 2;        // K: peaks need this many distinct cameras
  double min_weight = 0.0;    // ... and at least this much weight
  double ray_sigma_rad = 1e-4;  // angular noise of a ray, for the peak covariance
  size_t memory_budget = 500ull << 20;  // bytes of bricks; the least recently hit are evicted
  bool preallocate = false;   // allocate (and touch) the whole budget's bricks at construction:
                              // no allocation or page fault later, while frames run
  // Where the cast and peak test run: kAuto on a CUDA device when this build has the twin and
  // one answers (the whole budget's bricks then live there), else here; kCuda insists.
  enum Backend { kAuto = 0, kCpu = 1, kCuda = 2 };
  int backend = kAuto;
  // Threads for the peak search of a frame with thousands of candidates (a cold start's, when
  // every ray votes); 0: every hardware thread. Results are the same for any count.
  int threads = 1;
};

struct Ray {
  std::array<double, 3> origin;
  std::array<double, 3> dir;  // unit
  float weight;
  int32_t camera;             // 0..63
};

struct Peak {
  std::array<double, 3> position;
  std::array<double, 9> covariance;  // row-major 3×3 (m²)
  float weight;
  int32_t cameras;                   // distinct cameras
  int32_t level;
  std::array<int64_t, 3> voxel;      // voxel index at that level
  std::vector<int32_t> rays;         // per camera (ascending), its ray of the batch nearest the voxel
};

struct VoxelStats {
  int64_t steps = 0;           // voxel visits of the last cast
  int64_t bricks = 0;
  int64_t bytes = 0;
  int64_t evicted = 0;         // bricks evicted, ever
  int64_t lost = 0;            // votes lost because every brick in budget was in use this frame, ever
};

// What one brick costs against the memory budget (its size plus hash-map and LRU overhead).
size_t voxel_brick_bytes();

class VoxelGrid {
 public:
  explicit VoxelGrid(const VoxelParams& params);
  ~VoxelGrid();
  VoxelGrid(const VoxelGrid&) = delete;
  VoxelGrid& operator=(const VoxelGrid&) = delete;

  // Camera centres decide the level of detail: voxel size grows with range from the nearest.
  void set_cameras(const std::vector<std::array<double, 3>>& centres);
  // Takes the whole budget's bricks now, as `preallocate` does at construction (a caller on an
  // event loop runs it on a worker thread: touching hundreds of MB takes 15–250 ms).
  void preallocate();
  // Starts a new frame: older votes decay.
  void next_frame();
  // Casts a batch of rays into the grid.
  void cast(const std::vector<Ray>& rays);
  // Peaks of the current frame, refined over `rays` (the batch that was cast).
  std::vector<Peak> peaks(const std::vector<Ray>& rays) const;
  VoxelStats stats() const;
  // "cuda" or "cpu": where the cast and peak test run.
  const char* backend() const;
  // Level and voxel size at a point (for tests and reports).
  int level_at(const std::array<double, 3>& p) const;
  double voxel_size(int level) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace skyvox
