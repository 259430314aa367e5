// CUDA twin of the motion kernel's pixel pass (see motion_cuda.hpp). Compiled with
// -fmad=false: every float and double operation is the IEEE one the CPU pass performs, in the
// same order, so the background, masks, tile sums and runs are the CPU pass's bit for bit.
// The tests also compile it as C++ over a host emulation (cuda_common.cuh).
#include "cuda_common.cuh"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "motion_cuda.hpp"

namespace skyvox::cuda {
namespace {

// Runs one kernel launch may list; beyond it the frame's runs are gathered again on the host.
constexpr uint32_t kRunCapacity = 1u << 22;
// Stationary-target candidates a frame may list; beyond it the host finds them itself.
constexpr uint32_t kCandidateCapacity = 1u << 20;

template <typename Pix>
__global__ void first_kernel(const Pix* __restrict px, float* __restrict bg, size_t n) {
  const size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x;
  if (i < n) bg[i] = static_cast<float>(px[i]);
}

__global__ void set_kernel(const uint32_t* __restrict idx, const float* __restrict val, float* __restrict bg, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) bg[idx[i]] = val[i];
}

__global__ void gather_kernel(const uint32_t* __restrict idx, const float* __restrict bg, float* __restrict out, int n) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) out[i] = bg[idx[i]];
}

// motion.cpp's candidate pass, one thread per pixel: hits are appended in any order.
template <typename Pix>
__global__ void candidates_kernel(const Pix* __restrict px, int w, int h, int R, int tile, int tw, const uint32_t* __restrict floor_pre, uint32_t* __restrict out, unsigned int* __restrict count,
                                  unsigned int cap) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y;
  if (x < R || x >= w - R || y < R || y >= h - R) return;
  const Pix* pc = px + static_cast<size_t>(y) * w;
  const Pix* pu = pc - static_cast<size_t>(R) * w;
  const Pix* pd = pc + static_cast<size_t>(R) * w;
  const Pix q[8] = {pc[x - R], pc[x + R], pu[x], pd[x], pu[x - R], pu[x + R], pd[x - R], pd[x + R]};
  Pix hi = q[0], lo = q[0];
  for (int k = 1; k < 8; k++) {
    hi = q[k] > hi ? q[k] : hi;
    lo = q[k] < lo ? q[k] : lo;
  }
  const Pix c = pc[x];
  const uint32_t above = c > hi ? static_cast<uint32_t>(c - hi) : 0u, below = lo > c ? static_cast<uint32_t>(lo - c) : 0u;
  const uint32_t f = floor_pre[(y / tile) * tw + x / tile];
  if (above > f || below > f) {
    const unsigned int slot = atomicAdd(count, 1u);
    if (slot < cap) out[slot] = static_cast<uint32_t>(static_cast<size_t>(y) * w + x);
  }
}

// The pixel pass of motion.cpp's pixel_row, one thread per pixel.
template <typename Pix>
__global__ void pixel_kernel(const Pix* __restrict px, float* __restrict bg, uint8_t* __restrict held, float* __restrict d, uint8_t* __restrict mask, int w, int h, int tile, int tw,
                             const float* __restrict lo_tile, const float* __restrict hi_tile, float a_bg, float a_fg, uint8_t hold) {
  const int x = blockIdx.x * blockDim.x + threadIdx.x;
  const int y = blockIdx.y;
  if (x >= w || y >= h) return;
  const size_t i = static_cast<size_t>(y) * w + x;
  const int t = (y / tile) * tw + x / tile;
  const float v = static_cast<float>(px[i]);
  const float b = bg[i];
  const float di = v - b;
  const float ad = fabsf(di);
  const bool low = ad > lo_tile[t];
  const bool high = ad > hi_tile[t];
  const uint8_t hd = held[i];
  const uint8_t hn = low ? static_cast<uint8_t>(hd < 255 ? hd + 1 : 255) : 0;
  held[i] = hn;
  bg[i] = b + ((low && hn <= hold) ? a_fg : a_bg) * (v - b);
  d[i] = di;
  mask[i] = static_cast<uint8_t>(low) + static_cast<uint8_t>(high);
}

// motion.cpp's patch_points: the gathered pixels learn the ring's mean, from their kept background.
__global__ void patch_kernel(const uint32_t* __restrict idx, const float* __restrict upd, const float* __restrict kept, const uint8_t* __restrict mask, const uint8_t* __restrict held,
                             float* __restrict bg, int n, float a_bg, float a_fg, uint8_t hold) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const uint32_t p = idx[i];
  const float before = kept[i];
  const bool low = mask[p] != 0;
  bg[p] = before + ((low && held[p] <= hold) ? a_fg : a_bg) * (upd[i] - before);
}

// motion.cpp's tile sums, one thread per tile: each column's min(d², lo²) summed down the tile's
// rows in float, the columns' sums added in column order in double.
__global__ void tile_kernel(const float* __restrict d, const float* __restrict lo_tile, double* __restrict sums, int w, int h, int tile, int tw, int th) {
  const int t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= tw * th) return;
  const int tx = t % tw, ty = t / tw;
  const float lo = lo_tile[t];
  const float lo2 = lo * lo;
  const int x0 = tx * tile, x1 = min(w, x0 + tile), y0 = ty * tile, y1 = min(h, y0 + tile);
  double acc = 0;
  for (int x = x0; x < x1; x++) {
    float col = 0.0f;
    for (int y = y0; y < y1; y++) {
      const float di = d[static_cast<size_t>(y) * w + x];
      const float sq = di * di;
      col = col + ((lo2 < sq) ? lo2 : sq);  // std::min(di², lo²)
    }
    acc += col;
  }
  sums[t] = acc;
}

// motion.cpp's runs_of_row, one thread per row; runs are appended in any order (the host sorts).
__global__ void runs_kernel(const uint8_t* __restrict mask, const float* __restrict d, int w, int h, RunOut* __restrict runs, unsigned int* __restrict count, unsigned int cap) {
  const int y = blockIdx.x * blockDim.x + threadIdx.x;
  if (y >= h) return;
  const uint8_t* m = mask + static_cast<size_t>(y) * w;
  const float* dd = d + static_cast<size_t>(y) * w;
  int x = 0;
  while (x < w) {
    if (m[x] == 0) {
      x++;
      continue;
    }
    RunOut r;
    r.y = y;
    r.x0 = x;
    r.high = 0;
    r.peak = 0.0f;
    while (x < w && m[x] != 0) {
      const float di = dd[x];
      r.high = r.high || m[x] == 2;
      if (fabsf(di) > fabsf(r.peak)) r.peak = di;
      x++;
    }
    r.x1 = x - 1;
    const unsigned int slot = atomicAdd(count, 1u);
    if (slot < cap) runs[slot] = r;
  }
}

}  // namespace

Status status() {
  Status s;
  s.built = true;
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    s.reason = std::string("no usable CUDA device: ") + cudaGetErrorString(e);
    return s;
  }
  if (n == 0) {
    s.reason = "no CUDA device";
    return s;
  }
  cudaDeviceProp prop{};
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) {
    s.reason = "CUDA device 0 did not answer";
    return s;
  }
  s.available = true;
  s.device = prop.name;
  return s;
}

struct MotionPass::Impl {
  int w, h, bpp, tile, tw, th;
  size_t n;
  cudaStream_t stream = nullptr;
  uint8_t* host_frame = nullptr;  // pinned: the upload overlaps nothing else, but runs at full speed
  uint8_t *frame = nullptr, *held = nullptr, *mask = nullptr;
  float *bg = nullptr, *d = nullptr, *lo = nullptr, *hi = nullptr, *upd = nullptr, *kept = nullptr;
  uint32_t* idx = nullptr;
  size_t idx_cap = 0;
  double* sums = nullptr;
  RunOut* runs = nullptr;
  unsigned int* run_count = nullptr;
  uint32_t *cands = nullptr, *floor_pre = nullptr;
  unsigned int* cand_count = nullptr;

  void ensure_points(size_t k) {
    if (k <= idx_cap) return;
    cudaFree(idx);
    cudaFree(upd);
    cudaFree(kept);
    idx = nullptr, upd = nullptr, kept = nullptr;  // a failed allocation below leaves nothing to free twice
    idx_cap = std::max<size_t>(k, 2 * idx_cap);
    check(cudaMalloc(&idx, idx_cap * sizeof(uint32_t)), "allocating point lists");
    check(cudaMalloc(&upd, idx_cap * sizeof(float)), "allocating point lists");
    check(cudaMalloc(&kept, idx_cap * sizeof(float)), "allocating point lists");
  }

  void upload(const uint8_t* f) {
    std::memcpy(host_frame, f, n * bpp);
    check(cudaMemcpyAsync(frame, host_frame, n * bpp, cudaMemcpyHostToDevice, stream), "uploading a frame");
  }

  void upload_points(const std::vector<uint32_t>& ix, const std::vector<float>& val) {
    ensure_points(ix.size());
    if (ix.empty()) return;
    check(cudaMemcpyAsync(idx, ix.data(), ix.size() * sizeof(uint32_t), cudaMemcpyHostToDevice, stream), "uploading points");
    check(cudaMemcpyAsync(upd, val.data(), val.size() * sizeof(float), cudaMemcpyHostToDevice, stream), "uploading points");
  }

  void sync(const char* what) {
    check(cudaGetLastError(), what);
    check(cudaStreamSynchronize(stream), what);
  }

  ~Impl() {
    if (stream) cudaStreamSynchronize(stream);
    for (void* p : {static_cast<void*>(frame), static_cast<void*>(held), static_cast<void*>(mask), static_cast<void*>(bg), static_cast<void*>(d), static_cast<void*>(lo), static_cast<void*>(hi),
                    static_cast<void*>(upd), static_cast<void*>(kept), static_cast<void*>(idx), static_cast<void*>(sums), static_cast<void*>(runs), static_cast<void*>(run_count), static_cast<void*>(cands), static_cast<void*>(floor_pre), static_cast<void*>(cand_count)})
      if (p) cudaFree(p);
    if (host_frame) cudaFreeHost(host_frame);
    if (stream) cudaStreamDestroy(stream);
  }
};

MotionPass::MotionPass(int width, int height, int bytes_per_pixel, int tile) : impl_(new Impl) {
  Impl& m = *impl_;
  m.w = width;
  m.h = height;
  m.bpp = bytes_per_pixel;
  m.tile = tile;
  m.tw = (width + tile - 1) / tile;
  m.th = (height + tile - 1) / tile;
  m.n = static_cast<size_t>(width) * height;
  // A failure leaves impl_ to free what was allocated.
  {
    check(cudaStreamCreateWithFlags(&m.stream, cudaStreamNonBlocking), "creating a stream");
    check(cudaHostAlloc(reinterpret_cast<void**>(&m.host_frame), m.n * m.bpp, cudaHostAllocDefault), "allocating pinned memory");
    check(cudaMalloc(&m.frame, m.n * m.bpp), "allocating device memory");
    check(cudaMalloc(&m.held, m.n), "allocating device memory");
    check(cudaMalloc(&m.mask, m.n), "allocating device memory");
    check(cudaMalloc(&m.bg, m.n * sizeof(float)), "allocating device memory");
    check(cudaMalloc(&m.d, m.n * sizeof(float)), "allocating device memory");
    const size_t tiles = static_cast<size_t>(m.tw) * m.th;
    check(cudaMalloc(&m.lo, tiles * sizeof(float)), "allocating device memory");
    check(cudaMalloc(&m.hi, tiles * sizeof(float)), "allocating device memory");
    check(cudaMalloc(&m.sums, tiles * sizeof(double)), "allocating device memory");
    check(cudaMalloc(&m.runs, kRunCapacity * sizeof(RunOut)), "allocating device memory");
    check(cudaMalloc(&m.run_count, sizeof(unsigned int)), "allocating device memory");
    check(cudaMalloc(&m.cands, kCandidateCapacity * sizeof(uint32_t)), "allocating device memory");
    check(cudaMalloc(&m.floor_pre, tiles * sizeof(uint32_t)), "allocating device memory");
    check(cudaMalloc(&m.cand_count, sizeof(unsigned int)), "allocating device memory");
    check(cudaMemsetAsync(m.held, 0, m.n, m.stream), "clearing hold counts");
    check(cudaMemsetAsync(m.bg, 0, m.n * sizeof(float), m.stream), "clearing the background");
    m.ensure_points(1024);
    m.sync("starting the motion pass");
  }
}

MotionPass::~MotionPass() = default;

void MotionPass::load(const uint8_t* f) { impl_->upload(f); }

bool MotionPass::candidates(int ring, const std::vector<uint32_t>& floor_pre_tile, std::vector<uint32_t>& out) {
  Impl& m = *impl_;
  const size_t tiles = static_cast<size_t>(m.tw) * m.th;
  check(cudaMemcpyAsync(m.floor_pre, floor_pre_tile.data(), tiles * sizeof(uint32_t), cudaMemcpyHostToDevice, m.stream), "uploading thresholds");
  check(cudaMemsetAsync(m.cand_count, 0, sizeof(unsigned int), m.stream), "counting candidates");
  const dim3 grid(blocks(m.w, 256), m.h);
  if (m.bpp == 1)
    LAUNCH(candidates_kernel, grid, 256, m.stream, m.frame, m.w, m.h, ring, m.tile, m.tw, m.floor_pre, m.cands, m.cand_count, kCandidateCapacity);
  else
    LAUNCH(candidates_kernel, grid, 256, m.stream, reinterpret_cast<const uint16_t*>(m.frame), m.w, m.h, ring, m.tile, m.tw, m.floor_pre, m.cands, m.cand_count, kCandidateCapacity);
  unsigned int count = 0;
  check(cudaMemcpyAsync(&count, m.cand_count, sizeof(unsigned int), cudaMemcpyDeviceToHost, m.stream), "counting candidates");
  m.sync("the candidate pass");
  if (count > kCandidateCapacity) return false;
  out.resize(count);
  check(cudaMemcpyAsync(out.data(), m.cands, count * sizeof(uint32_t), cudaMemcpyDeviceToHost, m.stream), "reading candidates");
  m.sync("reading candidates");
  std::sort(out.begin(), out.end());
  return true;
}

void MotionPass::first(const std::vector<uint32_t>& idx, const std::vector<float>& val) {
  Impl& m = *impl_;
  if (m.bpp == 1)
    LAUNCH(first_kernel, blocks(m.n, 256), 256, m.stream, m.frame, m.bg, m.n);
  else
    LAUNCH(first_kernel, blocks(m.n, 256), 256, m.stream, reinterpret_cast<const uint16_t*>(m.frame), m.bg, m.n);
  m.upload_points(idx, val);
  if (!idx.empty()) LAUNCH(set_kernel, blocks(idx.size(), 256), 256, m.stream, m.idx, m.upd, m.bg, static_cast<int>(idx.size()));
  m.sync("learning the first frame");
}

void MotionPass::frame(const std::vector<float>& lo_tile, const std::vector<float>& hi_tile, float a_bg, float a_fg, uint8_t hold, const std::vector<uint32_t>& idx, const std::vector<float>& upd,
                       std::vector<float>& kept, std::vector<double>& tile_d2, bool detect, std::vector<RunOut>& runs) {
  Impl& m = *impl_;
  const size_t tiles = static_cast<size_t>(m.tw) * m.th;
  const int k = static_cast<int>(idx.size());
  check(cudaMemcpyAsync(m.lo, lo_tile.data(), tiles * sizeof(float), cudaMemcpyHostToDevice, m.stream), "uploading thresholds");
  check(cudaMemcpyAsync(m.hi, hi_tile.data(), tiles * sizeof(float), cudaMemcpyHostToDevice, m.stream), "uploading thresholds");
  m.upload_points(idx, upd);
  if (k > 0) LAUNCH(gather_kernel, blocks(k, 256), 256, m.stream, m.idx, m.bg, m.kept, k);
  const dim3 grid(blocks(m.w, 256), m.h);
  if (m.bpp == 1)
    LAUNCH(pixel_kernel, grid, 256, m.stream, m.frame, m.bg, m.held, m.d, m.mask, m.w, m.h, m.tile, m.tw, m.lo, m.hi, a_bg, a_fg, hold);
  else
    LAUNCH(pixel_kernel, grid, 256, m.stream, reinterpret_cast<const uint16_t*>(m.frame), m.bg, m.held, m.d, m.mask, m.w, m.h, m.tile, m.tw, m.lo, m.hi, a_bg, a_fg, hold);
  if (k > 0) LAUNCH(patch_kernel, blocks(k, 256), 256, m.stream, m.idx, m.upd, m.kept, m.mask, m.held, m.bg, k, a_bg, a_fg, hold);
  LAUNCH(tile_kernel, blocks(tiles, 128), 128, m.stream, m.d, m.lo, m.sums, m.w, m.h, m.tile, m.tw, m.th);
  unsigned int count = 0;
  if (detect) {
    check(cudaMemsetAsync(m.run_count, 0, sizeof(unsigned int), m.stream), "counting runs");
    LAUNCH(runs_kernel, blocks(m.h, 64), 64, m.stream, m.mask, m.d, m.w, m.h, m.runs, m.run_count, kRunCapacity);
    check(cudaMemcpyAsync(&count, m.run_count, sizeof(unsigned int), cudaMemcpyDeviceToHost, m.stream), "counting runs");
  }
  tile_d2.resize(tiles);
  check(cudaMemcpyAsync(tile_d2.data(), m.sums, tiles * sizeof(double), cudaMemcpyDeviceToHost, m.stream), "reading tile sums");
  kept.resize(idx.size());
  if (k > 0) check(cudaMemcpyAsync(kept.data(), m.kept, k * sizeof(float), cudaMemcpyDeviceToHost, m.stream), "reading kept background");
  m.sync("the pixel pass");
  runs.clear();
  if (!detect) return;
  if (count <= kRunCapacity) {
    runs.resize(count);
    check(cudaMemcpyAsync(runs.data(), m.runs, count * sizeof(RunOut), cudaMemcpyDeviceToHost, m.stream), "reading runs");
    m.sync("reading runs");
  } else {
    // More runs than the list holds (a frame that is nearly all foreground): read the mask
    // and differences back and list them here, as the CPU pass does.
    std::vector<uint8_t> mask(m.n);
    std::vector<float> d(m.n);
    check(cudaMemcpyAsync(mask.data(), m.mask, m.n, cudaMemcpyDeviceToHost, m.stream), "reading the mask");
    check(cudaMemcpyAsync(d.data(), m.d, m.n * sizeof(float), cudaMemcpyDeviceToHost, m.stream), "reading the mask");
    m.sync("reading the mask");
    for (int y = 0; y < m.h; y++)
      for (int x = 0; x < m.w;) {
        const size_t i = static_cast<size_t>(y) * m.w + x;
        if (mask[i] == 0) {
          x++;
          continue;
        }
        RunOut r{y, x, 0, 0, 0.0f};
        while (x < m.w && mask[static_cast<size_t>(y) * m.w + x] != 0) {
          const size_t j = static_cast<size_t>(y) * m.w + x;
          r.high = r.high || mask[j] == 2;
          if (std::fabs(d[j]) > std::fabs(r.peak)) r.peak = d[j];
          x++;
        }
        r.x1 = x - 1;
        runs.push_back(r);
      }
    return;
  }
  std::sort(runs.begin(), runs.end(), [](const RunOut& a, const RunOut& b) { return a.y != b.y ? a.y < b.y : a.x0 < b.x0; });
}

void MotionPass::window(int x0, int y0, int x1, int y1, float* bg, uint8_t* held) {
  Impl& m = *impl_;
  const size_t cols = static_cast<size_t>(x1 - x0 + 1), rows = static_cast<size_t>(y1 - y0 + 1);
  const size_t at = static_cast<size_t>(y0) * m.w + x0;
  check(cudaMemcpy2DAsync(bg, cols * sizeof(float), m.bg + at, m.w * sizeof(float), cols * sizeof(float), rows, cudaMemcpyDeviceToHost, m.stream), "reading a window");
  check(cudaMemcpy2DAsync(held, cols, m.held + at, m.w, cols, rows, cudaMemcpyDeviceToHost, m.stream), "reading a window");
  m.sync("reading a window");
}

}  // namespace skyvox::cuda
