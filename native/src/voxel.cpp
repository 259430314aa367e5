// CPU sparse voxel voting. Rays march through a coarse level map (cells of `cell` metres,
// each with the voxel level its range from the nearest camera asks for) and, inside each
// cell, through that level's voxels (Amanatides–Woo). Voxel sizes divide the cell, so every
// voxel lies in exactly one cell and a ray visits it once. Bricks of 8³ voxels live in a hash
// map under a memory budget, least recently hit evicted first.
#include "skyvox/voxel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <list>
#include <map>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace skyvox {
namespace {

constexpr int B = 8;  // brick edge in voxels
constexpr int BV = B * B * B;
// A brick and its share of the hash map and LRU list (node, bucket, pointers), for the budget.
constexpr size_t kMapOverhead = 96;
// Frame stamps start here, past the decay horizon: a zeroed stamp is old enough to weigh nothing.
constexpr uint32_t kFirstFrame = 1000;

// A voxel's weight, frame stamp and cameras side by side: a ray's step reads and writes all
// three, so they share a cache line.
struct Voxel {
  float w;
  uint32_t frame;  // last frame that hit it
  uint64_t mask;   // cameras that hit it in that frame
};

struct Brick {
  Voxel v[BV];
  uint64_t touched[BV / 64];  // voxels hit in last_frame: peak search visits only these
  uint32_t last_frame;  // last frame that hit any voxel
  uint32_t born;        // frame it was (re)created: older stamps are a previous occupant's
  std::list<uint64_t>::iterator lru;
};
constexpr size_t kBrickBytes = sizeof(Brick) + kMapOverhead;

// Amanatides–Woo traversal state of a ray through a grid of cells of size `s` from `tm`;
// `clamp_to` (cells per axis) keeps the start inside a bounded grid.
struct Dda {
  std::array<int64_t, 3> idx;
  std::array<double, 3> tmax, tdelta;
  std::array<int, 3> step;

  Dda(const Ray& r, const std::array<double, 3>& origin_of_grid, double tm, double s, const int64_t* clamp_to = nullptr) {
    for (int a = 0; a < 3; a++) {
      const double pa = r.origin[a] + r.dir[a] * tm - origin_of_grid[a];
      idx[a] = static_cast<int64_t>(std::floor(pa / s));
      if (clamp_to) idx[a] = std::min<int64_t>(clamp_to[a] - 1, std::max<int64_t>(0, idx[a]));
      if (r.dir[a] > 0) {
        step[a] = 1;
        tmax[a] = tm + ((idx[a] + 1) * s - pa) / r.dir[a];
        tdelta[a] = s / r.dir[a];
      } else if (r.dir[a] < 0) {
        step[a] = -1;
        tmax[a] = tm + (idx[a] * s - pa) / r.dir[a];
        tdelta[a] = -s / r.dir[a];
      } else {
        step[a] = 0;
        tmax[a] = std::numeric_limits<double>::infinity();
        tdelta[a] = std::numeric_limits<double>::infinity();
      }
    }
  }
  // The axis whose boundary comes next.
  int next_axis() const { return tmax[0] < tmax[1] ? (tmax[0] < tmax[2] ? 0 : 2) : (tmax[1] < tmax[2] ? 1 : 2); }
  // Crosses that boundary; returns the ray parameter where it did.
  double advance(int a) {
    const double t = tmax[a];
    idx[a] += step[a];
    tmax[a] += tdelta[a];
    return t;
  }
};

uint64_t brick_key(int level, int64_t bx, int64_t by, int64_t bz) {
  return (static_cast<uint64_t>(level) << 60) | (static_cast<uint64_t>(bx & 0xFFFFF) << 40) | (static_cast<uint64_t>(by & 0xFFFFF) << 20) | static_cast<uint64_t>(bz & 0xFFFFF);
}

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
  std::unordered_map<uint64_t, std::unique_ptr<Brick>> bricks;
  std::list<uint64_t> lru;  // front: least recently hit
  std::vector<uint64_t> frame_bricks;
  uint32_t frame = kFirstFrame;
  std::vector<double> decay_pow;
  VoxelStats st;
  size_t max_bricks;
  std::vector<std::unique_ptr<Brick>> spare;  // preallocated bricks not yet in use

  double size(int level) const { return p.min_voxel * std::ldexp(1.0, level); }

  float decayed(const Brick& b, int v) const {
    const Voxel& x = b.v[v];
    if (x.frame < b.born) return 0.0f;
    const uint32_t age = frame - x.frame;
    if (age == 0) return x.w;
    return age < decay_pow.size() ? static_cast<float>(x.w * decay_pow[age]) : 0.0f;
  }

  Brick* brick(uint64_t key, bool create) {
    auto it = bricks.find(key);
    if (it != bricks.end()) {
      Brick* b = it->second.get();
      if (b->last_frame != frame) {
        b->last_frame = frame;
        std::fill(std::begin(b->touched), std::end(b->touched), 0);
        lru.splice(lru.end(), lru, b->lru);
        frame_bricks.push_back(key);
      }
      return b;
    }
    if (!create) return nullptr;
    std::unique_ptr<Brick> b;
    if (bricks.size() >= max_bricks) {
      // The least recently hit brick goes (never one hit in this frame); its memory and map
      // node are reused for the new one, so a full grid allocates nothing.
      const uint64_t victim = lru.front();
      if (bricks[victim]->last_frame == frame) return nullptr;
      lru.pop_front();
      auto node = bricks.extract(victim);
      b = std::move(node.mapped());
      st.evicted++;
      if (victim == cached_key) cached_key = ~uint64_t{0};
    } else if (!spare.empty()) {
      b = std::move(spare.back());
      spare.pop_back();
    } else {
      b = std::make_unique<Brick>();
    }
    // Lazily empty: a voxel stamped before the brick's birth reads as weight 0, no cameras (a
    // new brick is zeroed, a reused one holds only older stamps), so nothing is cleared.
    b->born = frame;
    std::fill(std::begin(b->touched), std::end(b->touched), 0);
    b->last_frame = frame;
    lru.push_back(key);
    b->lru = std::prev(lru.end());
    frame_bricks.push_back(key);
    Brick* raw = b.get();
    bricks.emplace(key, std::move(b));
    return raw;
  }

  uint64_t cached_key = ~uint64_t{0};
  Brick* cached = nullptr;

  void vote(int level, int64_t ix, int64_t iy, int64_t iz, float weight, int camera) {
    // Consecutive steps mostly stay in one brick: skip the hash lookup then. A brick the full
    // budget could not give stays unavailable for the rest of the frame (every brick is then
    // in use), so that answer is cached too.
    const uint64_t key = brick_key(level, ix >> 3, iy >> 3, iz >> 3);
    Brick* b = key == cached_key ? cached : brick(key, true);
    cached_key = key;
    cached = b;
    if (!b) {
      st.lost++;  // over budget with every brick in use this frame: the vote is lost, and counted
      return;
    }
    const int v = static_cast<int>(((iz & 7) * B + (iy & 7)) * B + (ix & 7));
    Voxel& x = b->v[v];
    if (x.frame != frame) {
      x.w = decayed(*b, v);
      x.mask = 0;
      x.frame = frame;
      b->touched[v >> 6] |= uint64_t{1} << (v & 63);
    }
    x.w += weight;
    x.mask |= (1ull << camera);
  }

  // Entry and exit of the ray in the world box (slab method); false if it misses.
  bool clip(const Ray& r, double& t0, double& t1) const {
    t0 = 0;
    t1 = p.max_range;
    for (int a = 0; a < 3; a++) {
      if (std::fabs(r.dir[a]) < 1e-15) {
        if (r.origin[a] < p.world_min[a] || r.origin[a] >= p.world_max[a]) return false;
        continue;
      }
      double ta = (p.world_min[a] - r.origin[a]) / r.dir[a], tb = (p.world_max[a] - r.origin[a]) / r.dir[a];
      if (ta > tb) std::swap(ta, tb);
      t0 = std::max(t0, ta);
      t1 = std::min(t1, tb);
    }
    return t0 < t1;
  }

  // Visits the voxels of `level` along the ray between t0 and t1.
  void march(const Ray& r, int level, double t0, double t1) {
    const double s = size(level);
    const double tm = t0 + 1e-9 * std::max(1.0, t1 - t0);
    Dda d(r, p.world_min, tm, s);
    double t = tm;
    while (t < t1) {
      vote(level, d.idx[0], d.idx[1], d.idx[2], r.weight, r.camera);
      st.steps++;
      t = d.advance(d.next_axis());
    }
  }

  // Outer march over the level map's cells; each cell's segment is marched at its level.
  void cast(const Ray& r) {
    double t0, t1;
    if (!clip(r, t0, t1)) return;
    Dda d(r, p.world_min, t0 + 1e-9, p.cell, cells.data());
    double t = t0;
    while (t < t1) {
      const int a = d.next_axis();
      const double tn = std::min(t1, d.tmax[a]);
      march(r, level_map[(d.idx[2] * cells[1] + d.idx[1]) * cells[0] + d.idx[0]], t, tn);
      t = d.advance(a);
      if (d.idx[a] < 0 || d.idx[a] >= cells[a]) break;
    }
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
  m.level_map.assign(static_cast<size_t>(m.cells[0] * m.cells[1] * m.cells[2]), 0);
  m.max_bricks = std::max<size_t>(1, params.memory_budget / kBrickBytes);
  if (params.preallocate) {
    m.spare.reserve(m.max_bricks);
    for (size_t i = 0; i < m.max_bricks; i++) m.spare.push_back(std::make_unique<Brick>());
  }
  for (double w = 1.0; w > 1e-6 && m.decay_pow.size() < 64; w *= params.decay) m.decay_pow.push_back(w);
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
  impl_->frame_bricks.clear();
}

void VoxelGrid::cast(const std::vector<Ray>& rays) {
  impl_->st.steps = 0;
  for (const Ray& r : rays) impl_->cast(r);
}

std::vector<Peak> VoxelGrid::peaks(const std::vector<Ray>& rays) const {
  const Impl& m = *impl_;
  const RayIndex index(rays);
  std::vector<Peak> out;
  for (const uint64_t key : m.frame_bricks) {
    auto it = m.bricks.find(key);
    if (it == m.bricks.end()) continue;
    const Brick& b = *it->second;
    const int level = static_cast<int>(key >> 60);
    const auto unpack = [](uint64_t v) { return static_cast<int64_t>(v & 0x80000 ? v | ~uint64_t{0xFFFFF} : v); };
    const int64_t bx = unpack((key >> 40) & 0xFFFFF), by = unpack((key >> 20) & 0xFFFFF), bz = unpack(key & 0xFFFFF);
    // The 27 bricks around this one, looked up once for all its voxels, when first needed.
    const Brick* around[27];
    bool looked = false;
    const auto neighbour = [&](int64_t x, int64_t y, int64_t z, uint64_t* mask) -> float {
      if (!looked) {
        for (int dz = -1; dz <= 1; dz++)
          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
              auto f = m.bricks.find(brick_key(level, bx + dx, by + dy, bz + dz));
              around[(dz + 1) * 9 + (dy + 1) * 3 + (dx + 1)] = f == m.bricks.end() ? nullptr : f->second.get();
            }
        looked = true;
      }
      const Brick* nb = around[((z >> 3) - bz + 1) * 9 + ((y >> 3) - by + 1) * 3 + ((x >> 3) - bx + 1)];
      if (!nb) {
        *mask = 0;
        return 0.0f;
      }
      const int nv = static_cast<int>(((z & 7) * B + (y & 7)) * B + (x & 7));
      *mask = nb->v[nv].frame == m.frame ? nb->v[nv].mask : 0;
      return m.decayed(*nb, nv);
    };
    for (int word = 0; word < BV / 64; word++)
    for (uint64_t bits = b.touched[word]; bits; bits &= bits - 1) {
      const int v = word * 64 + __builtin_ctzll(bits);
      const float w = b.v[v].w;
      // A peak is crossed by rays of two cameras at least itself (more may pass next door);
      // this skips the many voxels a single ray passes through before any neighbour lookup.
      if (w < m.p.min_weight || __builtin_popcountll(b.v[v].mask) < std::min(2, m.p.min_cameras)) continue;
      const int64_t ix = bx * B + (v % B), iy = by * B + ((v / B) % B), iz = bz * B + v / (B * B);
      // A local maximum among its 26 neighbours at this level (ties go to the lowest index),
      // seen by K cameras in its neighbourhood: a ray with pixel noise may pass one voxel over.
      bool peak = true;
      uint64_t near = b.v[v].mask;
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
      out.push_back(pk);
    }
  }
  std::sort(out.begin(), out.end(), [](const Peak& a, const Peak& b) {
    if (a.weight != b.weight) return a.weight > b.weight;
    if (a.cameras != b.cameras) return a.cameras > b.cameras;
    if (a.level != b.level) return a.level < b.level;
    return a.voxel < b.voxel;
  });
  // Neighbouring voxels of one plateau refine to the same point: keep the first of each. A
  // duplicate lies within the larger voxel diagonal, so only the neighbouring cells of a grid
  // that coarse hold one.
  double cell = 0;
  for (const Peak& pk : out) cell = std::max(cell, m.size(pk.level) * 1.7320508075688772);
  std::unordered_map<uint64_t, std::vector<int>> near_kept;
  const auto cell_of = [&](const std::array<double, 3>& q, int a) { return static_cast<int64_t>(std::floor(q[a] / cell)); };
  const auto cell_key = [](int64_t x, int64_t y, int64_t z) { return (static_cast<uint64_t>(x & 0x1FFFFF) << 42) | (static_cast<uint64_t>(y & 0x1FFFFF) << 21) | static_cast<uint64_t>(z & 0x1FFFFF); };
  std::vector<Peak> kept;
  for (Peak& pk : out) {
    const int64_t cx = cell_of(pk.position, 0), cy = cell_of(pk.position, 1), cz = cell_of(pk.position, 2);
    bool dup = false;
    for (int64_t dz = -1; dz <= 1 && !dup; dz++)
      for (int64_t dy = -1; dy <= 1 && !dup; dy++)
        for (int64_t dx = -1; dx <= 1 && !dup; dx++) {
          auto it = near_kept.find(cell_key(cx + dx, cy + dy, cz + dz));
          if (it == near_kept.end()) continue;
          for (const int ki : it->second) {
            const Peak& k = kept[ki];
            const double lim = std::max(m.size(pk.level), m.size(k.level)) * 1.7320508075688772;
            const double ex = pk.position[0] - k.position[0], ey = pk.position[1] - k.position[1], ez = pk.position[2] - k.position[2];
            if (ex * ex + ey * ey + ez * ez <= lim * lim) {
              dup = true;
              break;
            }
          }
        }
    if (dup) continue;
    near_kept[cell_key(cx, cy, cz)].push_back(static_cast<int>(kept.size()));
    kept.push_back(std::move(pk));
  }
  return kept;
}

VoxelStats VoxelGrid::stats() const {
  VoxelStats s = impl_->st;
  s.bricks = static_cast<int64_t>(impl_->bricks.size());
  s.bytes = s.bricks * static_cast<int64_t>(kBrickBytes);
  return s;
}

}  // namespace skyvox
