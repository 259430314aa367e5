// CUDA twin of the voxel kernel's cast and peak test (see voxel_cuda.hpp). Compiled with
// -fmad=false; the tests also compile it as C++ over a host emulation (cuda_common.cuh).
#include "cuda_common.cuh"
#ifndef SKYVOX_CUDA_EMULATION
#include <cub/device/device_radix_sort.cuh>
#endif

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

#include "voxel_cuda.hpp"

namespace skyvox::cuda {
namespace {

constexpr uint64_t kLostKey = ~uint64_t{0};
constexpr uint32_t kNoBrick = ~uint32_t{0};
constexpr uint64_t kEmptySlot = ~uint64_t{0};
constexpr int kMaxDecay = 64;

// voxel.cpp's Voxel, 16 bytes, 512 to a brick.
struct Voxel {
  float w;
  uint32_t frame;
  uint64_t mask;
};

struct Decay {
  double pow[kMaxDecay];
  int n;
};

// voxel.cpp's decayed(): the weight a voxel holds in `frame`.
__device__ float decayed(const Voxel& x, uint32_t born, uint32_t frame, const Decay& d) {
  if (x.frame < born) return 0.0f;
  const uint32_t age = frame - x.frame;
  if (age == 0) return x.w;
  return age < static_cast<uint32_t>(d.n) ? static_cast<float>(x.w * d.pow[age]) : 0.0f;
}

// Steps per ray (fill == false) or the steps themselves at their offsets (fill == true).
__global__ void walk_kernel(const DeviceRay* __restrict rays, int n, walk::Grid g, uint32_t* __restrict counts, const uint32_t* __restrict offsets, uint64_t* __restrict keys,
                            uint16_t* __restrict voxels, uint32_t* __restrict ray_of, bool fill) {
  const int r = blockIdx.x * blockDim.x + threadIdx.x;
  if (r >= n) return;
  uint32_t k = 0;
  const uint32_t at = fill ? offsets[r] : 0;
  walk::walk(
      rays[r].origin, rays[r].dir, g,
      [&](int level, const int64_t* idx) {
        if (fill) {
          keys[at + k] = walk::brick_key(level, idx[0] >> 3, idx[1] >> 3, idx[2] >> 3);
          voxels[at + k] = static_cast<uint16_t>(((idx[2] & 7) * 8 + (idx[1] & 7)) * 8 + (idx[0] & 7));
          ray_of[at + k] = static_cast<uint32_t>(r);
        }
        k++;
      });
  if (!fill) counts[r] = k;
}

// Sort keys: brick id · 512 + voxel, or kLostKey.
__global__ void key_kernel(const uint32_t* __restrict ids, const uint16_t* __restrict voxels, uint64_t* __restrict keys, uint32_t* __restrict order, size_t n) {
  const size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  keys[i] = ids[i] == kNoBrick ? kLostKey : (static_cast<uint64_t>(ids[i]) << 9) | voxels[i];
  order[i] = static_cast<uint32_t>(i);
}

// One thread per voxel hit this cast (the first of its run of sorted steps) applies its votes
// in step order — ray order, as the CPU cast does — through voxel.cpp's vote().
__global__ void vote_kernel(const uint64_t* __restrict keys, const uint32_t* __restrict order, size_t n, const uint32_t* __restrict ray_of, const DeviceRay* __restrict rays,
                            Voxel* __restrict pool, const uint32_t* __restrict born, uint32_t frame, Decay decay, int candidate_cameras, uint64_t* __restrict cands,
                            unsigned int* __restrict count, unsigned int cap) {
  const size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= n || keys[i] == kLostKey || (i > 0 && keys[i - 1] == keys[i])) return;
  const uint64_t key = keys[i];
  const uint32_t id = static_cast<uint32_t>(key >> 9);
  Voxel& x = pool[key];
  if (x.frame != frame) {
    x.w = decayed(x, born[id], frame, decay);
    x.mask = 0;
    x.frame = frame;
  }
  for (size_t j = i; j < n && keys[j] == key; j++) {
    const DeviceRay& r = rays[ray_of[order[j]]];
    x.w += r.weight;
    const uint64_t before = x.mask;
    x.mask |= 1ull << r.camera;
    const bool had = candidate_cameras == 1 ? before == 0 : before != 0 && (before & (before - 1)) == 0;
    if (had && x.mask != before) {
      const unsigned int slot = atomicAdd(count, 1u);
      if (slot < cap) cands[slot] = key;
    }
  }
}

__device__ uint32_t find(const uint64_t* __restrict keys, const uint32_t* __restrict ids, size_t slots, int shift, uint64_t key) {
  if (slots == 0) return kNoBrick;
  const size_t mask = slots - 1;
  for (size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift);; i = (i + 1) & mask) {
    if (keys[i] == key) return ids[i];
    if (keys[i] == kEmptySlot) return kNoBrick;
  }
}

__device__ int64_t unpack(uint64_t v) { return static_cast<int64_t>(v & 0x80000 ? v | ~uint64_t{0xFFFFF} : v); }

// voxel.cpp's peak test of one candidate: a local maximum among its 26 neighbours at its level
// (ties to the lowest index), and the cameras around it.
__global__ void test_kernel(const uint64_t* __restrict cands, size_t n, const Voxel* __restrict pool, const uint32_t* __restrict born, const uint64_t* __restrict key_of,
                            const uint64_t* __restrict tkeys, const uint32_t* __restrict tids, size_t slots, int shift, uint32_t frame, Decay decay, CandidateTest* __restrict out) {
  const size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i >= n) return;
  const uint32_t id = static_cast<uint32_t>(cands[i] >> 9);
  const int v = static_cast<int>(cands[i] & 511);
  const uint64_t key = key_of[id];
  const int level = static_cast<int>(key >> 60);
  const int64_t bx = unpack((key >> 40) & 0xFFFFF), by = unpack((key >> 20) & 0xFFFFF), bz = unpack(key & 0xFFFFF);
  const Voxel& self = pool[cands[i]];
  const float w = self.w;
  const int64_t ix = bx * 8 + (v % 8), iy = by * 8 + ((v / 8) % 8), iz = bz * 8 + v / 64;
  bool peak = true;
  uint64_t near = self.mask;
  for (int dz = -1; dz <= 1 && peak; dz++)
    for (int dy = -1; dy <= 1 && peak; dy++)
      for (int dx = -1; dx <= 1 && peak; dx++) {
        if (!dx && !dy && !dz) continue;
        const int64_t x = ix + dx, y = iy + dy, z = iz + dz;
        const uint32_t nb = find(tkeys, tids, slots, shift, walk::brick_key(level, x >> 3, y >> 3, z >> 3));
        float nw = 0.0f;
        if (nb != kNoBrick) {
          const Voxel& nv = pool[(static_cast<uint64_t>(nb) << 9) | static_cast<uint64_t>(((z & 7) * 8 + (y & 7)) * 8 + (x & 7))];
          near |= nv.frame == frame ? nv.mask : 0;
          nw = decayed(nv, born[nb], frame, decay);
        }
        const bool before = dz < 0 || (dz == 0 && (dy < 0 || (dy == 0 && dx < 0)));
        if (nw > w || (before && nw == w)) peak = false;
      }
  out[i] = CandidateTest{w, peak ? 1 : 0, near};
}

// Stable sort of (key, order) pairs by key: equal keys keep step order.
void sort_pairs(uint64_t*& keys, uint32_t*& order, uint64_t*& keys_alt, uint32_t*& order_alt, size_t n, void*& temp, size_t& temp_bytes, cudaStream_t stream) {
#ifdef SKYVOX_CUDA_EMULATION
  (void)keys_alt, (void)order_alt, (void)temp, (void)temp_bytes, (void)stream;
  std::vector<std::pair<uint64_t, uint32_t>> v(n);
  for (size_t i = 0; i < n; i++) v[i] = {keys[i], order[i]};
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < n; i++) keys[i] = v[i].first, order[i] = v[i].second;
#else
  // CUB's radix sort is stable.
  size_t need = 0;
  check(cub::DeviceRadixSort::SortPairs(nullptr, need, keys, keys_alt, order, order_alt, static_cast<int>(n), 0, 64, stream), "sizing the sort");
  if (need > temp_bytes) {
    cudaFree(temp);
    temp = nullptr;
    check(cudaMalloc(&temp, need), "allocating the sort's memory");
    temp_bytes = need;
  }
  check(cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys, keys_alt, order, order_alt, static_cast<int>(n), 0, 64, stream), "sorting votes");
  std::swap(keys, keys_alt);
  std::swap(order, order_alt);
#endif
}

// A device array that grows to what is asked of it.
template <typename T>
struct Buffer {
  T* p = nullptr;
  size_t cap = 0;
  void ensure(size_t n, const char* what) {
    if (n <= cap) return;
    cudaFree(p);
    p = nullptr;
    cap = std::max<size_t>(n, 2 * cap);
    check(cudaMalloc(&p, cap * sizeof(T)), what);
  }
  ~Buffer() {
    if (p) cudaFree(p);
  }
};

}  // namespace

struct VoxelPass::Impl {
  walk::Grid grid{};
  size_t cells = 0, max_bricks = 0;
  Decay decay{};
  cudaStream_t stream = nullptr;
  uint8_t* level_map = nullptr;
  Voxel* pool = nullptr;
  Buffer<DeviceRay> rays;
  Buffer<uint32_t> counts, offsets, ray_of, ids, order, order_alt, born, tids;
  Buffer<uint64_t> keys, keys_alt, sort_keys, cands, key_of, tkeys;
  Buffer<uint16_t> voxels;
  Buffer<CandidateTest> tests;
  unsigned int* count = nullptr;
  void* sort_temp = nullptr;
  size_t sort_temp_bytes = 0;
  size_t steps = 0;  // of the last walk

  void sync(const char* what) {
    check(cudaGetLastError(), what);
    check(cudaStreamSynchronize(stream), what);
  }
  template <typename T>
  void up(Buffer<T>& b, const T* src, size_t n, const char* what) {
    b.ensure(std::max<size_t>(n, 1), what);
    if (n) check(cudaMemcpyAsync(b.p, src, n * sizeof(T), cudaMemcpyHostToDevice, stream), what);
  }
  ~Impl() {
    if (stream) cudaStreamSynchronize(stream);
    if (level_map) cudaFree(level_map);
    if (pool) cudaFree(pool);
    if (count) cudaFree(count);
    if (sort_temp) cudaFree(sort_temp);
    if (stream) cudaStreamDestroy(stream);
  }
};

VoxelPass::VoxelPass(const walk::Grid& grid, size_t cells, size_t max_bricks, const std::vector<double>& decay_pow) : impl_(new Impl) {
  Impl& m = *impl_;
  m.grid = grid;
  m.cells = cells;
  m.max_bricks = max_bricks;
  m.decay.n = static_cast<int>(std::min<size_t>(decay_pow.size(), kMaxDecay));
  for (int k = 0; k < m.decay.n; k++) m.decay.pow[k] = decay_pow[k];
  check(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking), "creating a stream");
  check(cudaMalloc(&m.level_map, cells), "allocating the level map");
  // The whole budget's bricks, zeroed: a voxel stamped before its brick's birth weighs nothing.
  check(cudaMalloc(&m.pool, max_bricks * 512 * sizeof(Voxel)), "allocating the brick pool");
  check(cudaMemsetAsync(m.pool, 0, max_bricks * 512 * sizeof(Voxel), m.stream), "clearing the brick pool");
  check(cudaMalloc(&m.count, sizeof(unsigned int)), "allocating a counter");
  m.grid.level_map = m.level_map;
  set_level_map(grid.level_map);
}

VoxelPass::~VoxelPass() = default;

void VoxelPass::set_level_map(const uint8_t* level_map) {
  Impl& m = *impl_;
  check(cudaMemcpyAsync(m.level_map, level_map, m.cells, cudaMemcpyHostToDevice, m.stream), "uploading the level map");
  m.sync("uploading the level map");
}

void VoxelPass::walk(const std::vector<DeviceRay>& rays, std::vector<uint64_t>& keys, std::vector<uint16_t>& voxels) {
  Impl& m = *impl_;
  const size_t n = rays.size();
  keys.clear();
  voxels.clear();
  m.steps = 0;
  if (n == 0) return;
  m.up(m.rays, rays.data(), n, "uploading rays");
  m.counts.ensure(n, "allocating step counts");
  LAUNCH(walk_kernel, blocks(n, 64), 64, m.stream, m.rays.p, static_cast<int>(n), m.grid, m.counts.p, m.offsets.p, m.keys.p, m.voxels.p, m.ray_of.p, false);
  std::vector<uint32_t> counts(n), offsets(n);
  check(cudaMemcpyAsync(counts.data(), m.counts.p, n * sizeof(uint32_t), cudaMemcpyDeviceToHost, m.stream), "counting steps");
  m.sync("counting steps");
  std::exclusive_scan(counts.begin(), counts.end(), offsets.begin(), uint32_t{0});
  m.steps = static_cast<size_t>(offsets.back()) + counts.back();
  if (m.steps == 0) return;
  m.up(m.offsets, offsets.data(), n, "uploading offsets");
  m.keys.ensure(m.steps, "allocating steps");
  m.voxels.ensure(m.steps, "allocating steps");
  m.ray_of.ensure(m.steps, "allocating steps");
  LAUNCH(walk_kernel, blocks(n, 64), 64, m.stream, m.rays.p, static_cast<int>(n), m.grid, m.counts.p, m.offsets.p, m.keys.p, m.voxels.p, m.ray_of.p, true);
  keys.resize(m.steps);
  voxels.resize(m.steps);
  check(cudaMemcpyAsync(keys.data(), m.keys.p, m.steps * sizeof(uint64_t), cudaMemcpyDeviceToHost, m.stream), "reading steps");
  check(cudaMemcpyAsync(voxels.data(), m.voxels.p, m.steps * sizeof(uint16_t), cudaMemcpyDeviceToHost, m.stream), "reading steps");
  m.sync("walking rays");
}

void VoxelPass::vote(const std::vector<uint32_t>& ids, const std::vector<uint32_t>& born_of, uint32_t frame, int candidate_cameras, std::vector<uint64_t>& candidates) {
  Impl& m = *impl_;
  const size_t n = ids.size();
  candidates.clear();
  m.up(m.born, born_of.data(), born_of.size(), "uploading brick births");
  if (n == 0) return;
  m.up(m.ids, ids.data(), n, "uploading brick ids");
  m.sort_keys.ensure(n, "allocating sort keys");
  m.keys_alt.ensure(n, "allocating sort keys");
  m.order.ensure(n, "allocating sort keys");
  m.order_alt.ensure(n, "allocating sort keys");
  LAUNCH(key_kernel, blocks(n, 256), 256, m.stream, m.ids.p, m.voxels.p, m.sort_keys.p, m.order.p, n);
  uint64_t* keys = m.sort_keys.p;
  uint32_t* order = m.order.p;
  uint64_t* keys_alt = m.keys_alt.p;
  uint32_t* order_alt = m.order_alt.p;
  sort_pairs(keys, order, keys_alt, order_alt, n, m.sort_temp, m.sort_temp_bytes, m.stream);
  // At most one candidate per voxel, so no more than the steps.
  m.cands.ensure(n, "allocating candidates");
  check(cudaMemsetAsync(m.count, 0, sizeof(unsigned int), m.stream), "counting candidates");
  LAUNCH(vote_kernel, blocks(n, 256), 256, m.stream, keys, order, n, m.ray_of.p, m.rays.p, m.pool, m.born.p, frame, m.decay, candidate_cameras, m.cands.p, m.count, static_cast<unsigned int>(n));
  unsigned int count = 0;
  check(cudaMemcpyAsync(&count, m.count, sizeof(unsigned int), cudaMemcpyDeviceToHost, m.stream), "counting candidates");
  m.sync("casting votes");
  candidates.resize(count);
  if (count) check(cudaMemcpyAsync(candidates.data(), m.cands.p, count * sizeof(uint64_t), cudaMemcpyDeviceToHost, m.stream), "reading candidates");
  m.sync("reading candidates");
}

void VoxelPass::test(const std::vector<uint64_t>& candidates, const std::vector<uint64_t>& table_keys, const std::vector<uint32_t>& table_ids, int shift, const std::vector<uint64_t>& key_of,
                     uint32_t frame, std::vector<CandidateTest>& out) {
  Impl& m = *impl_;
  const size_t n = candidates.size();
  out.resize(n);
  if (n == 0) return;
  m.up(m.cands, candidates.data(), n, "uploading candidates");
  m.up(m.tkeys, table_keys.data(), table_keys.size(), "uploading the brick table");
  m.up(m.tids, table_ids.data(), table_ids.size(), "uploading the brick table");
  m.up(m.key_of, key_of.data(), key_of.size(), "uploading brick keys");
  m.tests.ensure(n, "allocating tests");
  LAUNCH(test_kernel, blocks(n, 128), 128, m.stream, m.cands.p, n, m.pool, m.born.p, m.key_of.p, m.tkeys.p, m.tids.p, table_keys.size(), shift, frame, m.decay, m.tests.p);
  check(cudaMemcpyAsync(out.data(), m.tests.p, n * sizeof(CandidateTest), cudaMemcpyDeviceToHost, m.stream), "reading tests");
  m.sync("testing peaks");
}

}  // namespace skyvox::cuda
