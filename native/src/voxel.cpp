// CPU sparse voxel voting. Rays march through a coarse level map (cells of `cell` metres,
// each with the voxel level its range from the nearest camera asks for) and, inside each
// cell, through that level's voxels (Amanatides–Woo). Voxel sizes divide the cell, so every
// voxel lies in exactly one cell and a ray visits it once. Bricks of 8³ voxels live in a hash
// map under a memory budget, least recently hit evicted first.
#include "skyvox/voxel.hpp"

#include "voxel_cuda.hpp"
#include "voxel_walk.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>

#include <sys/mman.h>

namespace skyvox {
namespace {

constexpr int B = 8;  // brick edge in voxels
constexpr int BV = B * B * B;
// Frame stamps start here, past the decay horizon: a zeroed stamp is old enough to weigh nothing.
constexpr uint32_t kFirstFrame = 1000;
constexpr uint32_t kNone = ~uint32_t{0};
// A peak search over fewer candidates than this stays on one thread: starting another costs
// tens of microseconds, more than it would save (a steady frame has tens of candidates, a
// cold start's every-ray vote thousands).
constexpr size_t kParallelCandidates = 2048;

// A voxel's weight, frame stamp and cameras side by side: a ray's step reads and writes all
// three, so they share a cache line.
struct Voxel {
  float w;
  uint32_t frame;  // last frame that hit it
  uint64_t mask;   // cameras that hit it in that frame
};

// Voxels only, cache-line aligned: a brick's frame stamps live in small arrays beside the pool,
// which a lookup reads without touching (and missing) the brick's own memory.
struct alignas(64) Brick {
  Voxel v[BV];
};
// A brick's share of the rest, for the budget: at most four hash slots of 12 bytes (the table
// doubles at half load), its key, two LRU links, the pool's pointer and two frame stamps.
constexpr size_t kBrickOverhead = 4 * 12 + 8 + 2 * 4 + 8 + 2 * 4;
constexpr size_t kBrickBytes = sizeof(Brick) + kBrickOverhead;

// Bricks come in 2 MiB slabs the kernel may back with one huge page each (madvise): a cast
// touches a voxel per step across hundreds of megabytes, and with 4 KiB pages many of those
// steps also missed the TLB (huge pages made casts 5–15 % faster on the development VM).
// Full slabs are mapped, not taken from malloc: freeing one returns its pages to the system at
// once, where glibc would keep them resident for its next allocations (its mmap threshold
// rises after each large free), and a freed grid's budget would stay in the process.
class BrickPool {
 public:
  static constexpr size_t kSlabBytes = size_t{2} << 20;
  static constexpr size_t kPerSlab = kSlabBytes / sizeof(Brick);

  BrickPool() = default;
  BrickPool(const BrickPool&) = delete;
  BrickPool& operator=(const BrickPool&) = delete;
  ~BrickPool() {
    for (const Slab& s : slabs_) {
      if (s.mapped) munmap(s.at, s.bytes);
      else std::free(s.at);
    }
  }
  Brick* operator[](uint32_t id) const { return bricks_[id]; }
  size_t size() const { return bricks_.size(); }
  // Adds zeroed bricks until there are n; the last slab holds only what n needs.
  void grow_to(size_t n) {
    while (bricks_.size() < n) {
      const size_t k = std::min(kPerSlab, n - bricks_.size());
      const size_t bytes = k * sizeof(Brick);
      const bool full = k == kPerSlab;
      void* s = full ? map_aligned_slab() : std::aligned_alloc(alignof(Brick), bytes);
      if (!s) throw std::bad_alloc();
      slabs_.push_back({s, full ? kSlabBytes : bytes, full});
#ifdef MADV_HUGEPAGE
      if (full) madvise(s, kSlabBytes, MADV_HUGEPAGE);
#endif
      // Mapped pages read as zero already; writing them makes them resident now, which is
      // what a preallocated budget asks for.
      std::memset(s, 0, bytes);
      for (size_t i = 0; i < k; i++) bricks_.push_back(static_cast<Brick*>(s) + i);
    }
  }

 private:
  struct Slab {
    void* at;
    size_t bytes;
    bool mapped;
  };
  // One slab on a 2 MiB boundary, so one huge page can back it: twice the size is mapped and
  // the unaligned ends are given back.
  static void* map_aligned_slab() {
    void* raw = mmap(nullptr, 2 * kSlabBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const uintptr_t base = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (base + kSlabBytes - 1) & ~(uintptr_t{kSlabBytes} - 1);
    if (aligned > base) munmap(raw, aligned - base);
    const uintptr_t end = base + 2 * kSlabBytes;
    if (end > aligned + kSlabBytes) munmap(reinterpret_cast<void*>(aligned + kSlabBytes), end - aligned - kSlabBytes);
    return reinterpret_cast<void*>(aligned);
  }
  std::vector<Slab> slabs_;
  std::vector<Brick*> bricks_;
};

// Brick key → brick id, open addressing with linear probing: one probe of a flat array where a
// node-based map chased two or three pointers per lookup (the cast's main cost). Keys never
// equal kEmpty: a key's level sits in bits 60–62.
class BrickTable {
 public:
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  // The slots as they are (kEmpty where free), for a device that probes them the same way.
  const std::vector<uint64_t>& slot_keys() const { return keys_; }
  const std::vector<uint32_t>& slot_ids() const { return ids_; }
  int shift() const { return shift_; }

  // Brings a key's home slots toward the cache, ahead of find().
  void prefetch(uint64_t key) const {
    if (keys_.empty()) return;
    __builtin_prefetch(&keys_[home(key)]);
    __builtin_prefetch(&ids_[home(key)]);
  }
  uint32_t find(uint64_t key) const {
    if (keys_.empty()) return kNone;
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      if (keys_[i] == key) return ids_[i];
      if (keys_[i] == kEmpty) return kNone;
    }
  }
  // Grows now to the size n keys need, so inserting them never rehashes.
  void reserve(size_t n) {
    while (keys_.size() < 2 * n) grow();
  }
  void insert(uint64_t key, uint32_t id) {
    if ((count_ + 1) * 2 > keys_.size()) grow();
    size_t i = home(key);
    while (keys_[i] != kEmpty) i = (i + 1) & mask_;
    keys_[i] = key;
    ids_[i] = id;
    count_++;
  }
  // Removes a present key; later entries of its probe run shift back, so no tombstones pile up.
  void erase(uint64_t key) {
    size_t i = home(key);
    while (keys_[i] != key) i = (i + 1) & mask_;
    for (size_t j = (i + 1) & mask_; keys_[j] != kEmpty; j = (j + 1) & mask_) {
      const size_t h = home(keys_[j]);
      // An entry whose home lies cyclically in (i, j] is still reachable; any other moves to i.
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (stays) continue;
      keys_[i] = keys_[j];
      ids_[i] = ids_[j];
      i = j;
    }
    keys_[i] = kEmpty;
    count_--;
  }

 private:
  size_t home(uint64_t key) const { return static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> shift_); }
  void grow() {
    std::vector<uint64_t> keys(keys_.empty() ? 1024 : keys_.size() * 2, kEmpty);
    std::vector<uint32_t> ids(keys.size());
    keys.swap(keys_);
    ids.swap(ids_);
    mask_ = keys_.size() - 1;
    shift_ = 64 - __builtin_ctzll(keys_.size());
    count_ = 0;
    for (size_t i = 0; i < keys.size(); i++)
      if (keys[i] != kEmpty) insert(keys[i], ids[i]);
  }
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> ids_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t count_ = 0;
};

using walk::brick_key;

// Rays grouped by origin, each group sorted by the x of the direction: the rays passing within
// d of a point at distance L from their origin are within asin(d/L) of its direction, and a unit
// vector's component moves no more than its angle, so they lie in a window of that order.
class RayIndex {
 public:
  explicit RayIndex(const std::vector<Ray>& rays) : rays_(rays) {
    std::map<std::array<double, 3>, size_t> group_of;
    for (size_t k = 0; k < rays.size(); k++) {
      auto [it, fresh] = group_of.emplace(rays[k].origin, groups_.size());
      if (fresh) groups_.push_back({rays[k].origin, {}});
      groups_[it->second].by_x.emplace_back(rays[k].dir[0], static_cast<int>(k));
    }
    for (auto& g : groups_) std::sort(g.by_x.begin(), g.by_x.end());
  }

  // Calls f(ray index, distance) for every ray passing within d of c ahead of its origin.
  template <class F>
  void near(const std::array<double, 3>& c, double d, F&& f) const {
    for (const auto& g : groups_) {
      const double vx = c[0] - g.origin[0], vy = c[1] - g.origin[1], vz = c[2] - g.origin[2];
      const double len = std::sqrt(vx * vx + vy * vy + vz * vz);
      auto lo = g.by_x.begin(), hi = g.by_x.end();
      if (len > d) {
        const double half = std::asin(d / len) * (1 + 1e-9) + 1e-9;
        lo = std::lower_bound(g.by_x.begin(), g.by_x.end(), std::make_pair(vx / len - half, std::numeric_limits<int>::min()));
        hi = std::upper_bound(lo, g.by_x.end(), std::make_pair(vx / len + half, std::numeric_limits<int>::max()));
      }
      for (auto it = lo; it != hi; ++it) {
        const Ray& r = rays_[it->second];
        const double t = vx * r.dir[0] + vy * r.dir[1] + vz * r.dir[2];
        if (t <= 0) continue;
        const double ex = vx - t * r.dir[0], ey = vy - t * r.dir[1], ez = vz - t * r.dir[2];
        const double dist = std::sqrt(ex * ex + ey * ey + ez * ez);
        if (dist <= d) f(it->second, dist);
      }
    }
  }

 private:
  struct Group {
    std::array<double, 3> origin;
    std::vector<std::pair<double, int>> by_x;
  };
  const std::vector<Ray>& rays_;
  std::vector<Group> groups_;
};

}  // namespace

struct VoxelGrid::Impl {
  VoxelParams p;
  int levels;
  std::array<int64_t, 3> cells{};
  std::vector<uint8_t> level_map;
  BrickTable table;                          // key → id of every live brick
  BrickPool pool;                            // id → brick; ids below `live` are in use
  std::vector<uint64_t> key_of;              // id → key
  std::vector<uint32_t> born_of;             // id → frame it was (re)created: older stamps are a previous occupant's
  std::vector<uint32_t> last_frame_of;       // id → last frame that hit any of its voxels
  std::vector<uint32_t> lru_prev, lru_next;  // LRU list over ids, head least recently hit
  uint32_t lru_head = kNone, lru_tail = kNone;
  uint32_t live = 0;
  // Voxels this frame that reached the cameras a peak needs at least (two, or one when K is
  // one), as id·512 + voxel: the peak search visits only these, not every voxel a ray crossed.
  std::vector<uint64_t> candidates;
  int candidate_cameras = 2;
  uint32_t frame = kFirstFrame;
  std::vector<double> decay_pow;
  VoxelStats st;
  size_t max_bricks;
  size_t threads = 1;  // for the peak search of a large frame

  double size(int level) const { return p.min_voxel * std::ldexp(1.0, level); }

  float decayed(const Voxel& x, uint32_t born) const {
    if (x.frame < born) return 0.0f;
    const uint32_t age = frame - x.frame;
    if (age == 0) return x.w;
    return age < decay_pow.size() ? static_cast<float>(x.w * decay_pow[age]) : 0.0f;
  }

  void lru_unlink(uint32_t id) {
    const uint32_t a = lru_prev[id], z = lru_next[id];
    (a == kNone ? lru_head : lru_next[a]) = z;
    (z == kNone ? lru_tail : lru_prev[z]) = a;
  }
  void lru_append(uint32_t id) {
    lru_prev[id] = lru_tail;
    lru_next[id] = kNone;
    (lru_tail == kNone ? lru_head : lru_next[lru_tail]) = id;
    lru_tail = id;
  }

  // The id of the brick under `key`, created (evicting the least recently hit) when absent;
  // kNone when every brick the budget allows was hit in this frame.
  uint32_t brick(uint64_t key) {
    uint32_t id = table.find(key);
    if (id != kNone) {
      if (last_frame_of[id] != frame) {
        last_frame_of[id] = frame;
        lru_unlink(id);
        lru_append(id);
      }
      return id;
    }
    if (live >= max_bricks) {
      // The least recently hit brick goes (never one hit in this frame); its memory and id are
      // reused for the new one, so a full grid allocates nothing.
      id = lru_head;
      if (last_frame_of[id] == frame) return kNone;
      lru_unlink(id);
      table.erase(key_of[id]);
      st.evicted++;
    } else {
      id = live++;
      // A slab at a time: the bricks it adds wait, zeroed, for the next ids (on a GPU they all wait there).
      if (!gpu && id == pool.size()) pool.grow_to(std::min(max_bricks, pool.size() + BrickPool::kPerSlab));
      key_of.push_back(0);
      born_of.push_back(0);
      last_frame_of.push_back(0);
      lru_prev.push_back(kNone);
      lru_next.push_back(kNone);
    }
    // Lazily empty: a voxel stamped before the brick's birth reads as weight 0, no cameras (a
    // new brick is zeroed, a reused one holds only older stamps), so nothing is cleared.
    born_of[id] = frame;
    last_frame_of[id] = frame;
    key_of[id] = key;
    table.insert(key, id);
    lru_append(id);
    return id;
  }

  uint64_t cached_key = ~uint64_t{0};
  uint32_t cached_id = kNone;

  // Adds a ray's weight and camera to voxel v of brick id.
  void vote(uint32_t id, int v, float weight, int camera) {
    Voxel& x = pool[id]->v[v];
    if (x.frame != frame) {
      x.w = decayed(x, born_of[id]);
      x.mask = 0;
      x.frame = frame;
    }
    x.w += weight;
    const uint64_t before = x.mask;
    x.mask |= 1ull << camera;
    // Counted once: when the voxel first holds `candidate_cameras` cameras in this frame (a new
    // camera joining none, or exactly one, before).
    const bool had = candidate_cameras == 1 ? before == 0 : before != 0 && (before & (before - 1)) == 0;
    if (had && x.mask != before) candidates.push_back((static_cast<uint64_t>(id) << 9) | static_cast<uint64_t>(v));
  }
  // The walk's view of the grid (voxel_walk.hpp), set when the grid is.
  walk::Grid grid{};
  // The cast and peak test on a GPU (then the bricks' voxels live there).
  std::unique_ptr<cuda::VoxelPass> gpu;

  // The GPU path's cast: the device walks, the host keeps the books over the steps in ray order
  // as step() does, the device votes.
  void gpu_cast(const std::vector<Ray>& rays) {
    std::vector<cuda::DeviceRay> dr(rays.size());
    for (size_t i = 0; i < rays.size(); i++) {
      for (int a = 0; a < 3; a++) dr[i].origin[a] = rays[i].origin[a], dr[i].dir[a] = rays[i].dir[a];
      dr[i].weight = rays[i].weight;
      dr[i].camera = rays[i].camera;
    }
    std::vector<uint64_t> keys;
    std::vector<uint16_t> voxels;
    gpu->walk(dr, keys, voxels);
    std::vector<uint32_t> ids(keys.size());
    for (size_t i = 0; i < keys.size(); i++) {
      if (keys[i] != cached_key) {
        cached_key = keys[i];
        cached_id = brick(keys[i]);
      }
      ids[i] = cached_id;
      if (cached_id == kNone) st.lost++;
    }
    st.steps += static_cast<int64_t>(keys.size());
    std::vector<uint64_t> found;
    gpu->vote(ids, born_of, frame, candidate_cameras, found);
    candidates.insert(candidates.end(), found.begin(), found.end());
  }

  // A cast's steps go through a ring in batches of kBatch. The walk writes each step's brick
  // key and voxel; when a batch is full its keys' hash slots are prefetched, and the batch
  // before it is looked up (bricks created as needed), its voxels prefetched, and voted on.
  // Each lookup and vote is a cache miss (and, across hundreds of megabytes, a TLB miss),
  // whose address depends on no earlier vote: issued together in tight loops, the misses
  // overlap, where one per walked step left too few in flight (casts of rays from 100 m to
  // 5 km ran 1.1–1.5× faster). Steps keep their order through every stage, so bricks are
  // created, evicted and voted on exactly as if each step were done at once; a brick looked up
  // in a frame is never evicted in it, so the ids of waiting steps stay valid.
  static constexpr uint32_t kBatch = 128;
  static constexpr uint32_t kRing = 2 * kBatch;  // what waits: at most two batches
  static_assert((kRing & (kRing - 1)) == 0, "the running counts wrap; the ring must divide 2^32");
  struct Step {
    uint64_t key;
    uint32_t id;
    uint16_t voxel;
    int16_t camera;
    float weight;
  };
  Step ring[kRing];
  uint32_t walked = 0, settled = 0;  // running counts: steps walked, steps looked up and voted

  void prefetch_slots(uint32_t from, uint32_t to) {
    uint64_t last = ~uint64_t{0};
    for (uint32_t k = from; k != to; k++) {
      const uint64_t key = ring[k % kRing].key;
      if (key != last) table.prefetch(last = key);
    }
  }
  // Looks up steps [settled, to) and prefetches their voxels, then votes them.
  void settle(uint32_t to) {
    // Consecutive steps mostly stay in one brick: skip the lookup then. A brick the full
    // budget could not give stays unavailable for the rest of the frame (every brick is then
    // in use), so that answer is cached too.
    for (uint32_t k = settled; k != to; k++) {
      Step& q = ring[k % kRing];
      if (q.key != cached_key) {
        cached_key = q.key;
        cached_id = brick(q.key);
      }
      q.id = cached_id;
      if (cached_id != kNone) __builtin_prefetch(&pool[cached_id]->v[q.voxel], 1);
    }
    for (; settled != to; settled++) {
      const Step& q = ring[settled % kRing];
      if (q.id == kNone) st.lost++;  // over budget with every brick in use this frame: the vote is lost, and counted
      else vote(q.id, q.voxel, q.weight, q.camera);
    }
  }
  // Settles every step walked (the end of a cast).
  void drain() {
    prefetch_slots(walked - (walked - settled) % kBatch, walked);
    settle(walked);
  }

  // One step of a ray: voxel idx at `level`.
  void step(const Ray& r, int level, const int64_t* idx) {
    const uint64_t key = brick_key(level, idx[0] >> 3, idx[1] >> 3, idx[2] >> 3);
    const int v = static_cast<int>(((idx[2] & 7) * B + (idx[1] & 7)) * B + (idx[0] & 7));
    ring[walked++ % kRing] = {key, 0, static_cast<uint16_t>(v), static_cast<int16_t>(r.camera), r.weight};
    st.steps++;
    if ((walked - settled) % kBatch != 0) return;
    prefetch_slots(walked - kBatch, walked);
    if (walked - settled == 2 * kBatch) settle(walked - kBatch);
  }

  void cast(const Ray& r) {
    walk::walk(r.origin.data(), r.dir.data(), grid, [&](int level, const int64_t* idx) { step(r, level, idx); });
  }
};

VoxelGrid::VoxelGrid(const VoxelParams& params) : impl_(new Impl) {
  Impl& m = *impl_;
  m.p = params;
  if (!(params.min_voxel > 0 && params.max_voxel >= params.min_voxel)) throw std::invalid_argument("need 0 < min_voxel <= max_voxel");
  m.levels = 1 + static_cast<int>(std::floor(std::log2(params.max_voxel / params.min_voxel) + 1e-9));
  if (m.levels > 8) throw std::invalid_argument("max_voxel / min_voxel must be at most 128");
  for (int l = 0; l < m.levels; l++) {
    const double q = params.cell / m.size(l);
    if (std::fabs(q - std::round(q)) > 1e-9) throw std::invalid_argument("every voxel size must divide cell; got " + std::to_string(m.size(l)) + " m into " + std::to_string(params.cell) + " m");
  }
  for (int a = 0; a < 3; a++) {
    if (!(params.world_max[a] > params.world_min[a])) throw std::invalid_argument("world_max must exceed world_min on every axis");
    m.cells[a] = static_cast<int64_t>(std::ceil((params.world_max[a] - params.world_min[a]) / params.cell));
  }
  if (m.cells[0] * m.cells[1] * m.cells[2] > (int64_t{1} << 28)) throw std::invalid_argument("world box too large for its level map; raise cell");
  if (params.min_cameras < 1 || params.min_cameras > 64) throw std::invalid_argument("min_cameras must be in [1, 64]");
  if (params.threads < 0) throw std::invalid_argument("threads must be 0 (every hardware thread) or more");
  m.level_map.assign(static_cast<size_t>(m.cells[0] * m.cells[1] * m.cells[2]), 0);
  for (int a = 0; a < 3; a++) {
    m.grid.world_min[a] = params.world_min[a];
    m.grid.world_max[a] = params.world_max[a];
    m.grid.cells[a] = m.cells[a];
  }
  m.grid.max_range = params.max_range;
  m.grid.cell = params.cell;
  m.grid.min_voxel = params.min_voxel;
  m.grid.level_map = m.level_map.data();
  m.max_bricks = std::max<size_t>(1, params.memory_budget / kBrickBytes);
  for (double w = 1.0; w > 1e-6 && m.decay_pow.size() < 64; w *= params.decay) m.decay_pow.push_back(w);
  m.gpu = cuda::make_pass<cuda::VoxelPass>(params.backend, m.grid, m.level_map.size(), m.max_bricks, m.decay_pow);
  if (params.preallocate) preallocate();
  m.candidate_cameras = std::min(2, params.min_cameras);
  m.threads = params.threads > 0 ? static_cast<size_t>(params.threads) : std::max(1u, std::thread::hardware_concurrency());
  set_cameras({});
}

VoxelGrid::~VoxelGrid() = default;

size_t voxel_brick_bytes() { return kBrickBytes; }

double VoxelGrid::voxel_size(int level) const { return impl_->size(level); }

void VoxelGrid::set_cameras(const std::vector<std::array<double, 3>>& centres) {
  Impl& m = *impl_;
  for (int64_t z = 0; z < m.cells[2]; z++)
    for (int64_t y = 0; y < m.cells[1]; y++)
      for (int64_t x = 0; x < m.cells[0]; x++) {
        const std::array<double, 3> c{m.p.world_min[0] + (x + 0.5) * m.p.cell, m.p.world_min[1] + (y + 0.5) * m.p.cell, m.p.world_min[2] + (z + 0.5) * m.p.cell};
        double r = centres.empty() ? 0 : std::numeric_limits<double>::infinity();
        for (const auto& o : centres) r = std::min(r, std::sqrt((c[0] - o[0]) * (c[0] - o[0]) + (c[1] - o[1]) * (c[1] - o[1]) + (c[2] - o[2]) * (c[2] - o[2])));
        const double want = std::min(m.p.max_voxel, std::max(m.p.min_voxel, r * m.p.lod_ratio));
        const int level = std::min(m.levels - 1, std::max(0, static_cast<int>(std::floor(std::log2(want / m.p.min_voxel) + 1e-9))));
        m.level_map[static_cast<size_t>((z * m.cells[1] + y) * m.cells[0] + x)] = static_cast<uint8_t>(level);
      }
  if (m.gpu) m.gpu->set_level_map(m.level_map.data());
}

int VoxelGrid::level_at(const std::array<double, 3>& p) const {
  const Impl& m = *impl_;
  std::array<int64_t, 3> i;
  for (int a = 0; a < 3; a++) i[a] = std::min<int64_t>(m.cells[a] - 1, std::max<int64_t>(0, static_cast<int64_t>(std::floor((p[a] - m.p.world_min[a]) / m.p.cell))));
  return m.level_map[static_cast<size_t>((i[2] * m.cells[1] + i[1]) * m.cells[0] + i[0])];
}

void VoxelGrid::next_frame() {
  impl_->frame++;
  impl_->cached_key = ~uint64_t{0};
  impl_->candidates.clear();
}

void VoxelGrid::preallocate() {
  Impl& m = *impl_;
  // On a GPU the bricks live there, taken with the pass.
  if (!m.gpu) m.pool.grow_to(m.max_bricks);
  // The books the budget's bricks will need, too: a cold start's first frame creates them
  // all, and growing them then (a rehash at each doubling, fresh pages) cost it milliseconds.
  m.table.reserve(m.max_bricks);
  for (auto* v : {&m.born_of, &m.last_frame_of, &m.lru_prev, &m.lru_next}) v->reserve(m.max_bricks);
  m.key_of.reserve(m.max_bricks);
}

void VoxelGrid::cast(const std::vector<Ray>& rays) {
  Impl& m = *impl_;
  m.st.steps = 0;
  if (m.gpu) return m.gpu_cast(rays);
  for (const Ray& r : rays) m.cast(r);
  m.drain();
}

std::vector<Peak> VoxelGrid::peaks(const std::vector<Ray>& rays) const {
  const Impl& m = *impl_;
  const RayIndex index(rays);
  std::vector<Peak> out;
  // Grouped by brick, so each brick's neighbours are looked up once.
  std::vector<uint64_t> order(m.candidates);
  std::sort(order.begin(), order.end());
  std::vector<cuda::CandidateTest> tests;
  if (m.gpu) m.gpu->test(order, m.table.slot_keys(), m.table.slot_ids(), m.table.shift(), m.key_of, m.frame, tests);
  // Tests the candidates [from, to) (whole bricks), refining each peak found into `found`.
  const auto search = [&](size_t from, size_t to, std::vector<Peak>& found) {
    for (size_t c0 = from, c1 = from; c0 < to; c0 = c1) {
      const uint32_t id = static_cast<uint32_t>(order[c0] >> 9);
      c1 = c0 + 1;
      while (c1 < to && (order[c1] >> 9) == id) c1++;
      const uint64_t key = m.key_of[id];
      const int level = static_cast<int>(key >> 60);
      const auto unpack = [](uint64_t v) { return static_cast<int64_t>(v & 0x80000 ? v | ~uint64_t{0xFFFFF} : v); };
      const int64_t bx = unpack((key >> 40) & 0xFFFFF), by = unpack((key >> 20) & 0xFFFFF), bz = unpack(key & 0xFFFFF);
      // The 27 bricks around this one, looked up once for all its voxels, when first needed.
      uint32_t around[27];
      bool looked = false;
      const auto neighbour = [&](int64_t x, int64_t y, int64_t z, uint64_t* mask) -> float {
        if (!looked) {
          for (int dz = -1; dz <= 1; dz++)
            for (int dy = -1; dy <= 1; dy++)
              for (int dx = -1; dx <= 1; dx++) {
                const uint32_t f = m.table.find(brick_key(level, bx + dx, by + dy, bz + dz));
                around[(dz + 1) * 9 + (dy + 1) * 3 + (dx + 1)] = f;
              }
          looked = true;
        }
        const uint32_t nb = around[((z >> 3) - bz + 1) * 9 + ((y >> 3) - by + 1) * 3 + ((x >> 3) - bx + 1)];
        if (nb == kNone) {
          *mask = 0;
          return 0.0f;
        }
        const int nv = static_cast<int>(((z & 7) * B + (y & 7)) * B + (x & 7));
        const Voxel& n = m.pool[nb]->v[nv];
        *mask = n.frame == m.frame ? n.mask : 0;
        return m.decayed(n, m.born_of[nb]);
      };
      for (size_t q = c0; q < c1; q++) {
        const int v = static_cast<int>(order[q] & 511);
        const int64_t ix = bx * B + (v % B), iy = by * B + ((v / B) % B), iz = bz * B + v / (B * B);
        float w;
        bool peak = true;
        uint64_t near;
        if (m.gpu) {
          // Tested on the device (voxel_cuda.cu), as below.
          w = tests[q].weight;
          if (w < m.p.min_weight) continue;
          peak = tests[q].peak != 0;
          near = tests[q].near;
        } else {
          const Voxel& self = m.pool[id]->v[v];
          w = self.w;
          // A peak is crossed by rays of two cameras at least itself (more may pass next door), so
          // only candidates are visited: not the many voxels a single ray passes through.
          if (w < m.p.min_weight) continue;
          // A local maximum among its 26 neighbours at this level (ties go to the lowest index),
          // seen by K cameras in its neighbourhood: a ray with pixel noise may pass one voxel over.
          near = self.mask;
          for (int dz = -1; dz <= 1 && peak; dz++)
            for (int dy = -1; dy <= 1 && peak; dy++)
              for (int dx = -1; dx <= 1 && peak; dx++) {
                if (!dx && !dy && !dz) continue;
                uint64_t nm = 0;
                const float n = neighbour(ix + dx, iy + dy, iz + dz, &nm);
                near |= nm;
                const bool before = dz < 0 || (dz == 0 && (dy < 0 || (dy == 0 && dx < 0)));
                if (n > w || (before && n == w)) peak = false;
              }
        }
        const int cams = __builtin_popcountll(near);
        if (!peak || cams < m.p.min_cameras) continue;
        const double s = m.size(level);
        const std::array<double, 3> c{m.p.world_min[0] + (ix + 0.5) * s, m.p.world_min[1] + (iy + 0.5) * s, m.p.world_min[2] + (iz + 0.5) * s};
        // Per camera, the ray of this batch passing nearest the voxel (within two diagonals; ties
        // to the lowest index).
        std::array<int, 64> best;
        std::array<double, 64> bestd;
        best.fill(-1);
        bestd.fill(std::numeric_limits<double>::infinity());
        index.near(c, 2 * s * 1.7320508075688772, [&](int k, double d) {
          const int cam = rays[k].camera;
          if (d < bestd[cam] || (d == bestd[cam] && k < best[cam])) {
            bestd[cam] = d;
            best[cam] = k;
          }
        });
        // Least squares: the point nearest every chosen ray, each weighted by 1/(σ_θ·range)².
        double A[9] = {0}, bv[3] = {0};
        int used = 0;
        for (int cam = 0; cam < 64; cam++) {
          if (best[cam] < 0) continue;
          const Ray& r = rays[best[cam]];
          const double rng = std::sqrt((c[0] - r.origin[0]) * (c[0] - r.origin[0]) + (c[1] - r.origin[1]) * (c[1] - r.origin[1]) + (c[2] - r.origin[2]) * (c[2] - r.origin[2]));
          const double wt = 1.0 / ((m.p.ray_sigma_rad * rng) * (m.p.ray_sigma_rad * rng));
          for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
              const double pij = (i == j ? 1.0 : 0.0) - r.dir[i] * r.dir[j];
              A[i * 3 + j] += wt * pij;
              bv[i] += wt * pij * r.origin[j];
            }
          used++;
        }
        Peak pk{};
        pk.weight = w;
        pk.cameras = cams;
        pk.level = level;
        pk.voxel = {ix, iy, iz};
        for (int cam = 0; cam < 64; cam++)
          if (best[cam] >= 0) pk.rays.push_back(best[cam]);
        pk.position = c;
        pk.covariance = {s * s / 12, 0, 0, 0, s * s / 12, 0, 0, 0, s * s / 12};
        const double det = A[0] * (A[4] * A[8] - A[5] * A[7]) - A[1] * (A[3] * A[8] - A[5] * A[6]) + A[2] * (A[3] * A[7] - A[4] * A[6]);
        if (used >= 2 && std::fabs(det) > 1e-300) {
          const double inv[9] = {(A[4] * A[8] - A[5] * A[7]) / det, (A[2] * A[7] - A[1] * A[8]) / det, (A[1] * A[5] - A[2] * A[4]) / det,
                                 (A[5] * A[6] - A[3] * A[8]) / det, (A[0] * A[8] - A[2] * A[6]) / det, (A[2] * A[3] - A[0] * A[5]) / det,
                                 (A[3] * A[7] - A[4] * A[6]) / det, (A[1] * A[6] - A[0] * A[7]) / det, (A[0] * A[4] - A[1] * A[3]) / det};
          for (int i = 0; i < 3; i++) pk.position[i] = inv[i * 3] * bv[0] + inv[i * 3 + 1] * bv[1] + inv[i * 3 + 2] * bv[2];
          for (int i = 0; i < 9; i++) pk.covariance[i] = inv[i];
        }
        found.push_back(std::move(pk));
      }
    }
  };
  // A cold start's frameset (every ray votes) has thousands of candidates: the search is read
  // only, so threads take whole bricks' runs of them, and their peaks join in candidate order.
  const size_t nthreads = order.size() >= kParallelCandidates ? std::min<size_t>(m.threads, order.size() / (kParallelCandidates / 2)) : 1;
  if (nthreads <= 1) {
    search(0, order.size(), out);
  } else {
    std::vector<size_t> cut(nthreads + 1, order.size());
    cut[0] = 0;
    for (size_t i = 1; i < nthreads; i++) {
      size_t c = std::max(cut[i - 1], order.size() * i / nthreads);
      while (c > 0 && c < order.size() && (order[c] >> 9) == (order[c - 1] >> 9)) c++;
      cut[i] = c;
    }
    std::vector<std::vector<Peak>> parts(nthreads);
    std::vector<std::thread> pool;
    std::vector<std::exception_ptr> failed(nthreads);
    const auto part = [&](size_t i) {
      try {
        search(cut[i], cut[i + 1], parts[i]);
      } catch (...) {
        failed[i] = std::current_exception();
      }
    };
    for (size_t i = 1; i < nthreads; i++) pool.emplace_back(part, i);
    part(0);
    for (auto& t : pool) t.join();
    for (auto& e : failed)
      if (e) std::rethrow_exception(e);
    for (auto& part : parts) out.insert(out.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  std::sort(out.begin(), out.end(), [](const Peak& a, const Peak& b) {
    if (a.weight != b.weight) return a.weight > b.weight;
    if (a.cameras != b.cameras) return a.cameras > b.cameras;
    if (a.level != b.level) return a.level < b.level;
    return a.voxel < b.voxel;
  });
  // Neighbouring voxels of one plateau refine to the same point: keep the first of each. A
  // duplicate lies within the larger voxel diagonal (`lim`, at most the largest diagonal of any
  // peak): on a grid of cells twice that, the ball of radius lim about a point lies in the two
  // cells nearest it on each axis, so eight cells hold every kept point it could duplicate.
  double diag = 0;
  for (const Peak& pk : out) diag = std::max(diag, m.size(pk.level) * 1.7320508075688772);
  const double cell = 2 * diag * (1 + 1e-9);
  // Cell → the last point kept in it (its list runs through `next_in_cell`): a flat table,
  // where a node-based map with a vector per cell took a cold start's frame 4 ms.
  size_t slots = 16;
  while (slots < 2 * out.size()) slots *= 2;
  std::vector<uint64_t> cell_keys(slots, ~uint64_t{0});
  std::vector<int> cell_head(slots, -1);
  std::vector<int> next_in_cell;
  const auto cell_key = [](int64_t x, int64_t y, int64_t z) { return (static_cast<uint64_t>(x & 0x1FFFFF) << 42) | (static_cast<uint64_t>(y & 0x1FFFFF) << 21) | static_cast<uint64_t>(z & 0x1FFFFF); };
  const auto slot_of = [&](uint64_t key) {
    size_t i = static_cast<size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & (slots - 1);
    while (cell_keys[i] != key && cell_keys[i] != ~uint64_t{0}) i = (i + 1) & (slots - 1);
    return i;
  };
  std::vector<Peak> kept;
  kept.reserve(out.size());
  next_in_cell.reserve(out.size());
  for (Peak& pk : out) {
    int64_t home[3], side[3];
    for (int a = 0; a < 3; a++) {
      const double u = pk.position[a] / cell;
      home[a] = static_cast<int64_t>(std::floor(u));
      side[a] = u - static_cast<double>(home[a]) < 0.5 ? -1 : 1;
    }
    bool dup = false;
    for (int corner = 0; corner < 8 && !dup; corner++) {
      const size_t at = slot_of(cell_key(home[0] + (corner & 1 ? side[0] : 0), home[1] + (corner & 2 ? side[1] : 0), home[2] + (corner & 4 ? side[2] : 0)));
      for (int ki = cell_head[at]; ki >= 0 && !dup; ki = next_in_cell[ki]) {
        const Peak& k = kept[ki];
        const double lim = std::max(m.size(pk.level), m.size(k.level)) * 1.7320508075688772;
        const double ex = pk.position[0] - k.position[0], ey = pk.position[1] - k.position[1], ez = pk.position[2] - k.position[2];
        dup = ex * ex + ey * ey + ez * ez <= lim * lim;
      }
    }
    if (dup) continue;
    const size_t at = slot_of(cell_key(home[0], home[1], home[2]));
    cell_keys[at] = cell_key(home[0], home[1], home[2]);
    next_in_cell.push_back(cell_head[at]);
    cell_head[at] = static_cast<int>(kept.size());
    kept.push_back(std::move(pk));
  }
  return kept;
}

const char* VoxelGrid::backend() const { return impl_->gpu ? "cuda" : "cpu"; }

VoxelStats VoxelGrid::stats() const {
  VoxelStats s = impl_->st;
  s.bricks = static_cast<int64_t>(impl_->live);
  s.bytes = s.bricks * static_cast<int64_t>(kBrickBytes);
  return s;
}

}  // namespace skyvox
