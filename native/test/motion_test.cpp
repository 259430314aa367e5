// Standalone checks and timings of the native kernels, no Node needed (for machines such as
// the GPU box). Prints one JSON object; exits non-zero when a check fails.
#include <algorithm>
#include <array>
#include <memory>
#include <thread>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "skyvox/motion.hpp"
#include "skyvox/voxel.hpp"
#include "../src/motion_rows.hpp"

using namespace skyvox;

namespace {

struct Target {
  double u, v, flux;
};

// Sky of level 100 with Gaussian noise σ, plus Gaussian PSF targets integrated over pixels.
void render(std::vector<uint8_t>& img, int w, int h, const std::vector<Target>& targets, double psf, double sigma, std::mt19937& rng) {
  std::normal_distribution<double> noise(0.0, sigma);
  std::vector<double> f(static_cast<size_t>(w) * h, 100.0);
  for (const auto& t : targets) {
    const int r = static_cast<int>(std::ceil(4 * psf + 1));
    for (int y = std::max(0, static_cast<int>(t.v) - r); y <= std::min(h - 1, static_cast<int>(t.v) + r); y++) {
      const double wy = 0.5 * (std::erf((y + 0.5 - t.v) / (psf * std::sqrt(2.0))) - std::erf((y - 0.5 - t.v) / (psf * std::sqrt(2.0))));
      for (int x = std::max(0, static_cast<int>(t.u) - r); x <= std::min(w - 1, static_cast<int>(t.u) + r); x++) {
        const double wx = 0.5 * (std::erf((x + 0.5 - t.u) / (psf * std::sqrt(2.0))) - std::erf((x - 0.5 - t.u) / (psf * std::sqrt(2.0))));
        f[static_cast<size_t>(y) * w + x] += t.flux * wx * wy;
      }
    }
  }
  for (size_t i = 0; i < f.size(); i++) img[i] = static_cast<uint8_t>(std::clamp(std::lround(f[i] + noise(rng)), 0L, 255L));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Frames for the parity check: noise, moving PSF targets (some across stripe and tile seams),
// a point target hovering from the first frame on, a hot pixel; 8- or 16-bit.
std::vector<uint8_t> parity_frame(int w, int h, int bpp, int k, std::mt19937& rng) {
  std::normal_distribution<double> noise(0.0, bpp == 1 ? 2.0 : 20.0);
  const double base = bpp == 1 ? 100.0 : 3000.0, amp = bpp == 1 ? 60.0 : 900.0;
  std::vector<double> f(static_cast<size_t>(w) * h, base);
  auto psf = [&](double u, double v, double a) {
    for (int y = std::max(0, static_cast<int>(v) - 4); y <= std::min(h - 1, static_cast<int>(v) + 4); y++)
      for (int x = std::max(0, static_cast<int>(u) - 4); x <= std::min(w - 1, static_cast<int>(u) + 4); x++) f[static_cast<size_t>(y) * w + x] += a * std::exp(-((x - u) * (x - u) + (y - v) * (y - v)) / 2.0);
  };
  psf(w * 0.3, h * 0.4, amp);  // hovering
  if (k > 10)
    for (int i = 0; i < 30; i++) psf(fmod(37.0 * i + 3.0 * k, w - 8) + 4, fmod(23.0 * i + 2.0 * k, h - 8) + 4, (i % 3 == 0 ? -0.6 : 1.0) * amp);
  f[static_cast<size_t>(h / 2) * w + w / 2] += 4 * amp;  // hot pixel
  std::vector<uint8_t> out(static_cast<size_t>(w) * h * bpp);
  const double top = bpp == 1 ? 255 : 65535;
  for (size_t i = 0; i < f.size(); i++) {
    const auto v = static_cast<uint16_t>(std::clamp(std::round(f[i] + noise(rng)), 0.0, top));
    if (bpp == 1) out[i] = static_cast<uint8_t>(v);
    else out[2 * i] = static_cast<uint8_t>(v & 0xff), out[2 * i + 1] = static_cast<uint8_t>(v >> 8);
  }
  return out;
}

// CPU and CUDA detectors on the same frames: the same blobs (positions within 1e-3 px).
bool cuda_parity(std::mt19937& rng, std::string& out) {
  bool all = true;
  for (const auto& c : std::vector<std::array<int, 4>>{{333, 250, 1, 16}, {640, 480, 2, 16}, {517, 301, 1, 10}}) {
    const int w = c[0], h = c[1], bpp = c[2];
    MotionParams pc, pg;
    pc.backend = MotionParams::kCpu;
    pg.backend = MotionParams::kCuda;
    pc.tile = pg.tile = c[3];
    pc.threads = 3;
    MotionDetector cpu(w, h, bpp, pc), gpu(w, h, bpp, pg);
    int frames = 0, blobs = 0, mismatched = 0;
    double worst = 0;
    for (int k = 0; k < 24; k++) {
      const std::vector<uint8_t> f = parity_frame(w, h, bpp, k, rng);
      const MotionResult a = cpu.process(f.data()), b = gpu.process(f.data());
      frames++;
      if (a.blobs.size() != b.blobs.size() || a.foreground_pixels != b.foreground_pixels || a.overflow != b.overflow) {
        mismatched++;
        continue;
      }
      for (size_t i = 0; i < a.blobs.size(); i++) {
        const Blob &p = a.blobs[i], &q = b.blobs[i];
        blobs++;
        worst = std::max({worst, std::fabs(static_cast<double>(p.x) - q.x), std::fabs(static_cast<double>(p.y) - q.y)});
        if (p.x0 != q.x0 || p.y0 != q.y0 || p.x1 != q.x1 || p.y1 != q.y1 || p.area != q.area || p.peak != q.peak || std::fabs(p.x - q.x) > 1e-3 || std::fabs(p.y - q.y) > 1e-3) mismatched++;
      }
    }
    const bool pass = mismatched == 0 && blobs > 0;
    all = all && pass;
    char buf[320];
    std::snprintf(buf, sizeof buf, "%s{\"width\":%d,\"height\":%d,\"bytes_per_pixel\":%d,\"tile\":%d,\"frames\":%d,\"blobs\":%d,\"mismatched\":%d,\"max_centroid_diff_px\":%.3g,\"backend\":\"%s\",\"pass\":%s}", out.empty() ? "" : ",", w, h, bpp, c[3], frames, blobs, mismatched, worst, gpu.backend(), pass ? "true" : "false");
    out += buf;
  }
  return all;
}

// The hand-written AVX-512 row kernels against the portable ones on the same frames: the same
// blobs bit for bit (widths not a multiple of 64, 8- and 16-bit pixels, two tile sizes).
bool simd_parity(std::mt19937& rng, std::string& out) {
  if (!rows::avx512()) {
    out = "{\"skipped\":\"this CPU has no AVX-512: only the portable kernels run\"}";
    return true;
  }
  static_assert(sizeof(Blob) == 13 * 4, "Blob compares as bytes");
  bool all = true;
  for (const auto& c : std::vector<std::array<int, 4>>{{333, 250, 1, 16}, {640, 480, 2, 16}, {517, 301, 1, 10}, {130, 97, 2, 8}}) {
    const int w = c[0], h = c[1], bpp = c[2];
    MotionParams p;
    p.backend = MotionParams::kCpu;
    p.tile = c[3];
    p.threads = 2;
    MotionDetector fast(w, h, bpp, p), portable(w, h, bpp, p);
    int blobs = 0, mismatched = 0;
    for (int k = 0; k < 24; k++) {
      const std::vector<uint8_t> f = parity_frame(w, h, bpp, k, rng);
      const MotionResult a = fast.process(f.data());
      rows::force_portable(true);
      const MotionResult b = portable.process(f.data());
      rows::force_portable(false);
      const bool same = a.blobs.size() == b.blobs.size() && a.foreground_pixels == b.foreground_pixels && a.overflow == b.overflow &&
                        (a.blobs.empty() || std::memcmp(a.blobs.data(), b.blobs.data(), a.blobs.size() * sizeof(Blob)) == 0);
      blobs += static_cast<int>(a.blobs.size());
      mismatched += !same;
    }
    const bool pass = mismatched == 0 && blobs > 0;
    all = all && pass;
    char buf[256];
    std::snprintf(buf, sizeof buf, "%s{\"width\":%d,\"height\":%d,\"bytes_per_pixel\":%d,\"tile\":%d,\"blobs\":%d,\"mismatched_frames\":%d,\"pass\":%s}", out.empty() ? "" : ",", w, h, bpp, c[3], blobs, mismatched, pass ? "true" : "false");
    out += buf;
  }
  return all;
}

// CPU and CUDA voxel grids on the same rays, frame after frame: the same steps, bricks,
// evictions, lost votes and peaks (positions, weights, cameras, rays) — under a budget small
// enough to evict and to lose votes, and one that holds everything.
bool voxel_parity(std::mt19937& rng, std::string& out) {
  bool all = true;
  for (const size_t budget : {size_t{40} << 20, size_t{256} << 20}) {
    VoxelParams pc;
    pc.world_min = {-600, -600, 0};
    pc.world_max = {600, 600, 800};
    pc.max_range = 1200;
    pc.min_voxel = 0.5;
    pc.max_voxel = 4;
    pc.memory_budget = budget;
    pc.backend = VoxelParams::kCpu;
    VoxelParams pg = pc;
    pg.backend = VoxelParams::kCuda;
    VoxelGrid cpu(pc), gpu(pg);
    const std::vector<std::array<double, 3>> cams{{-500, -500, 2}, {500, -500, 2}, {500, 500, 2}, {-500, 500, 2}, {0, -550, 3}};
    cpu.set_cameras(cams);
    gpu.set_cameras(cams);
    std::uniform_real_distribution<double> u(-1, 1);
    std::normal_distribution<double> jitter(0.0, 2e-4);
    std::vector<std::array<double, 3>> targets;
    for (int i = 0; i < 12; i++) targets.push_back({300 * u(rng), 300 * u(rng), 300 + 200 * u(rng)});
    int frames = 0, peaks = 0, mismatched = 0;
    for (int f = 0; f < 6; f++) {
      std::vector<Ray> rays;
      for (size_t c = 0; c < cams.size(); c++)
        for (size_t i = 0; i < targets.size(); i++) {
          // Half the targets hover (their voxels' weights carry over, decayed), half move.
          const auto& t = targets[i];
          std::array<double, 3> d{t[0] + (i % 2 ? 5.0 * f : 0.0) - cams[c][0], t[1] - cams[c][1], t[2] - cams[c][2]};
          for (double& x : d) x += jitter(rng) * 1000;
          const double n = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
          rays.push_back({cams[c], {d[0] / n, d[1] / n, d[2] / n}, 1.0f, static_cast<int32_t>(c)});
        }
      // Clutter: rays to nowhere in particular.
      for (int k = 0; k < 20; k++) {
        std::array<double, 3> d{u(rng), u(rng), 0.2 + std::fabs(u(rng))};
        const double n = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        rays.push_back({cams[k % cams.size()], {d[0] / n, d[1] / n, d[2] / n}, 0.5f, static_cast<int32_t>(k % cams.size())});
      }
      cpu.next_frame();
      gpu.next_frame();
      cpu.cast(rays);
      gpu.cast(rays);
      const std::vector<Peak> a = cpu.peaks(rays), b = gpu.peaks(rays);
      const VoxelStats sa = cpu.stats(), sb = gpu.stats();
      frames++;
      if (sa.steps != sb.steps || sa.bricks != sb.bricks || sa.evicted != sb.evicted || sa.lost != sb.lost || a.size() != b.size()) {
        mismatched++;
        continue;
      }
      for (size_t i = 0; i < a.size(); i++) {
        peaks++;
        if (a[i].position != b[i].position || a[i].weight != b[i].weight || a[i].cameras != b[i].cameras || a[i].voxel != b[i].voxel || a[i].rays != b[i].rays || a[i].covariance != b[i].covariance) mismatched++;
      }
    }
    const VoxelStats st = cpu.stats();
    const bool pass = mismatched == 0 && peaks > 0;
    all = all && pass;
    char buf[320];
    std::snprintf(buf, sizeof buf, "%s{\"budget_bytes\":%zu,\"frames\":%d,\"peaks\":%d,\"evicted\":%lld,\"lost\":%lld,\"mismatched\":%d,\"backend\":\"%s\",\"pass\":%s}", out.empty() ? "" : ",", budget, frames, peaks,
                  static_cast<long long>(st.evicted), static_cast<long long>(st.lost), mismatched, gpu.backend(), pass ? "true" : "false");
    out += buf;
  }
  return all;
}

// GPU timings: one camera at 1080p, 4K and 8K, then several 8K cameras at once (a thread and
// a stream each), as a node with many cameras runs them.
void cuda_timings(std::mt19937& rng, bool quick, std::string& out) {
  const int sizes[][2] = {{1920, 1080}, {3840, 2160}, {7680, 4320}};
  std::vector<std::vector<uint8_t>> eight;
  for (const auto& sz : sizes) {
    const int w = sz[0], h = sz[1];
    std::vector<std::vector<uint8_t>> fs;
    for (int k = 0; k < 4; k++) fs.push_back(parity_frame(w, h, 1, 12 + k, rng));
    MotionParams p;
    p.backend = MotionParams::kCuda;
    MotionDetector det(w, h, 1, p);
    for (int k = 0; k <= p.warmup_frames + 2; k++) det.process(fs[k % 4].data());
    const int reps = quick ? 3 : 20;
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < reps; k++) det.process(fs[k % 4].data());
    const double dt = seconds_since(t0) / reps;
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s{\"width\":%d,\"height\":%d,\"cameras\":1,\"ms\":%.3f,\"mpx_s\":%.1f,\"fps_per_camera\":%.1f}", out.empty() ? "" : ",", w, h, dt * 1e3, w * h / dt / 1e6, 1.0 / dt);
    out += buf;
    if (w == 7680) eight = fs;
  }
  for (const int cams : {4, 10}) {
    std::vector<std::unique_ptr<MotionDetector>> dets;
    MotionParams p;
    p.backend = MotionParams::kCuda;
    for (int c = 0; c < cams; c++) dets.push_back(std::make_unique<MotionDetector>(7680, 4320, 1, p));
    const int reps = quick ? 3 : 10;
    auto work = [&](int c, int n) {
      for (int k = 0; k < n; k++) dets[c]->process(eight[(k + c) % 4].data());
    };
    std::vector<std::thread> warm;
    for (int c = 0; c < cams; c++) warm.emplace_back(work, c, p.warmup_frames + 2);
    for (auto& t : warm) t.join();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> run;
    for (int c = 0; c < cams; c++) run.emplace_back(work, c, reps);
    for (auto& t : run) t.join();
    const double dt = seconds_since(t0);
    char buf[200];
    std::snprintf(buf, sizeof buf, ",{\"width\":7680,\"height\":4320,\"cameras\":%d,\"fps_per_camera\":%.1f,\"mpx_s_all\":%.1f}", cams, reps / dt, cams * reps * 7680.0 * 4320 / dt / 1e6);
    out += buf;
  }
}

// Voxel casting, peak search included, as `skyvox bench native` measures it: rays of 100 m to
// 5 km from four cameras into a box that holds them. Every timed step votes: where one frame
// of the rays needs more bricks than the budget holds, fewer rays are cast (lost votes touch
// no voxel memory and would flatter the rate). A device gets more rays and a larger budget: a
// few hundred rays leave it idle.
void voxel_timings(int backend, size_t budget, int rays0, bool quick, std::string& out) {
  for (const double length : {100.0, 500.0, 1000.0, 2000.0, 5000.0}) {
    const double half = length * 0.75;
    const std::vector<std::array<double, 3>> cams = {{-half * 0.9, -half * 0.9, 1}, {half * 0.9, -half * 0.9, 1}, {half * 0.9, half * 0.9, 1}, {-half * 0.9, half * 0.9, 1}};
    VoxelParams p;
    p.world_min = {-half, -half, 0};
    p.world_max = {half, half, length};
    p.max_range = length;
    p.memory_budget = budget;
    p.backend = backend;
    int n = rays0;
    std::unique_ptr<VoxelGrid> grid;
    std::vector<Ray> rays;
    for (int attempt = 0;; attempt++) {
      std::mt19937 r(2);
      std::uniform_real_distribution<double> u(-1, 1), up(0.2, 1);
      rays.assign(static_cast<size_t>(n), Ray{});
      for (int i = 0; i < n; i++) {
        const double v[3] = {u(r), u(r), up(r)};
        const double m = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
        rays[i] = Ray{cams[i % 4], {v[0] / m, v[1] / m, v[2] / m}, 1.0f, i % 4};
      }
      grid = std::make_unique<VoxelGrid>(p);
      grid->set_cameras(cams);
      grid->next_frame();
      grid->cast(rays);
      grid->peaks(rays);
      const VoxelStats st = grid->stats();
      if (st.lost == 0 || attempt == 5 || n <= 4) break;
      n = std::max(4, static_cast<int>(n * (1.0 - static_cast<double>(st.lost) / static_cast<double>(st.steps)) * 0.9));
    }
    const int64_t lost0 = grid->stats().lost;
    const int frames = quick ? 3 : 10;
    int64_t steps = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < frames; k++) {
      grid->next_frame();
      grid->cast(rays);
      grid->peaks(rays);
      steps += grid->stats().steps;
    }
    const double dt = seconds_since(t0);
    const VoxelStats st = grid->stats();
    char buf[320];
    std::snprintf(buf, sizeof buf, "%s{\"backend\":\"%s\",\"ray_length_m\":%.0f,\"rays\":%d,\"steps_per_s\":%.4g,\"rays_per_s\":%.4g,\"votes_lost_share\":%.4g,\"bricks\":%lld}", out.empty() ? "" : ",", grid->backend(), length, n, steps / dt, n * frames / dt,
                  static_cast<double>(st.lost - lost0) / static_cast<double>(std::max<int64_t>(1, steps)), static_cast<long long>(st.bricks));
    out += buf;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool quick = argc > 1 && std::string(argv[1]) == "--quick";
  std::mt19937 rng(42);
  bool ok = true;
  std::string checks;

  // 1. Sub-pixel centroids at SNR >= 10 within 0.1 px, across thread counts (stripe seams).
  {
    const int w = 512, h = 384;
    std::uniform_real_distribution<double> pos(20, 364), frac(0, 1);
    std::vector<Target> targets;
    // Peak SNR 10: peak = F/(2π·σ_psf²) = 10·σ  →  F = 10 · 2 · 2π ≈ 125.7 (σ = 2 DN, σ_psf = 1 px).
    const double flux = 10.0 * 2.0 * 2.0 * M_PI;
    for (int i = 0; i < 60; i++) targets.push_back({12 + 8.1 * i + frac(rng), pos(rng), flux});
    std::vector<uint8_t> img(static_cast<size_t>(w) * h);
    MotionParams p;
    p.threads = 4;
    MotionDetector det(w, h, 1, p);
    for (int k = 0; k <= p.warmup_frames + 1; k++) {
      render(img, w, h, {}, 1.0, 2.0, rng);
      det.process(img.data());
    }
    render(img, w, h, targets, 1.0, 2.0, rng);
    MotionDetector one(w, h, 1, [] { MotionParams q; q.threads = 1; return q; }());
    const MotionResult res = det.process(img.data());
    // Per-axis RMS error against truth, and the errors normalised by the reported variances.
    double se = 0, sz = 0;
    int matched = 0;
    for (const auto& t : targets) {
      const Blob* best = nullptr;
      for (const auto& b : res.blobs)
        if (!best || std::hypot(b.x - t.u, b.y - t.v) < std::hypot(best->x - t.u, best->y - t.v)) best = &b;
      if (!best || std::hypot(best->x - t.u, best->y - t.v) > 2) continue;
      matched++;
      se += (best->x - t.u) * (best->x - t.u) + (best->y - t.v) * (best->y - t.v);
      sz += (best->x - t.u) * (best->x - t.u) / best->var_x + (best->y - t.v) * (best->y - t.v) / best->var_y;
    }
    const double rms = std::sqrt(se / (2.0 * std::max(1, matched)));
    const double zrms = std::sqrt(sz / (2.0 * std::max(1, matched)));
    const bool pass = matched == static_cast<int>(targets.size()) && rms <= 0.1 && zrms > 0.7 && zrms < 1.4;
    ok = ok && pass;
    char buf[256];
    std::snprintf(buf, sizeof buf, "{\"name\":\"subpixel_centroid_peak_snr10\",\"pass\":%s,\"matched\":%d,\"targets\":%zu,\"rms_px_per_axis\":%.4f,\"normalised_rms\":%.3f}", pass ? "true" : "false", matched, targets.size(), rms, zrms);
    checks += buf;
  }

  // 2. The AVX-512 row kernels give what the portable ones give.
  {
    std::string parity;
    const bool same = simd_parity(rng, parity);
    ok = ok && same;
    checks += ",{\"name\":\"avx512_equals_portable\",\"pass\":" + std::string(same ? "true" : "false") + ",\"runs\":[" + parity + "]}";
  }

  // 3. Timing of the pixel pass + components on 1080p, 4K, 8K.
  std::string timings;
  const int sizes[][2] = {{1920, 1080}, {3840, 2160}, {7680, 4320}};
  for (const auto& s : sizes) {
    const int w = s[0], h = s[1];
    std::vector<uint8_t> a(static_cast<size_t>(w) * h), b(static_cast<size_t>(w) * h);
    render(a, w, h, {}, 1.0, 2.0, rng);
    render(b, w, h, {{w / 3.0, h / 3.0, 200}, {w / 2.0, h / 2.0, 200}}, 1.0, 2.0, rng);
    // With the stationary-target protection (the default) and without it: what it costs.
    for (const float k_stationary : {MotionParams{}.k_stationary, 0.0f})
    for (int threads : {1, 0}) {
      MotionParams p;
      p.backend = MotionParams::kCpu;
      p.threads = threads;
      p.k_stationary = k_stationary;
      MotionDetector det(w, h, 1, p);
      for (int k = 0; k <= p.warmup_frames + 1; k++) det.process(k % 2 ? a.data() : b.data());
      const int reps = quick ? 2 : (w > 4000 ? 5 : 20);
      const auto t0 = std::chrono::steady_clock::now();
      for (int k = 0; k < reps; k++) det.process(k % 2 ? a.data() : b.data());
      const double dt = seconds_since(t0) / reps;
      char buf[256];
      std::snprintf(buf, sizeof buf, "%s{\"width\":%d,\"height\":%d,\"threads\":%d,\"k_stationary\":%g,\"ms\":%.3f,\"mpx_s\":%.1f}", timings.empty() ? "" : ",", w, h, det.threads(), static_cast<double>(k_stationary), dt * 1e3, w * h / dt / 1e6);
      timings += buf;
    }
  }
  // 4. Voxel casting on one CPU thread.
  std::string voxel_cpu;
  voxel_timings(VoxelParams::kCpu, size_t{500} << 20, 200, quick, voxel_cpu);
  // 5. The CUDA twin, where a device answers: the same blobs as the CPU pass, and timings.
  const MotionCudaInfo gpu = motion_cuda_info();
  std::string cuda = "{\"built\":" + std::string(gpu.built ? "true" : "false") + ",\"available\":" + (gpu.available ? "true" : "false") + ",\"device\":\"" + gpu.device + "\",\"reason\":\"" + gpu.reason + "\"";
  if (gpu.available) {
    std::string parity, gtimes;
    const bool same = cuda_parity(rng, parity);
    ok = ok && same;
    cuda += ",\"parity\":[" + parity + "]";
    std::string vparity;
    const bool vsame = voxel_parity(rng, vparity);
    ok = ok && vsame;
    cuda += ",\"voxel_parity\":[" + vparity + "]";
    // Timings mean nothing under the host emulation (test/cuda_emulation.hpp).
    if (gpu.device != "host emulation") {
      cuda_timings(rng, quick, gtimes);
      cuda += ",\"motion_cuda\":[" + gtimes + "]";
      std::string vtimes;
      voxel_timings(VoxelParams::kCuda, size_t{8} << 30, 3200, quick, vtimes);
      cuda += ",\"voxel_cuda\":[" + vtimes + "]";
    }
  }
  cuda += "}";
  std::printf("{\"simd\":\"%s\",\"checks\":[%s],\"motion_cpu\":[%s],\"voxel_cpu\":[%s],\"cuda\":%s,\"ok\":%s}\n", motion_simd_path(), checks.c_str(), timings.c_str(), voxel_cpu.c_str(), cuda.c_str(), ok ? "true" : "false");
  return ok ? 0 : 1;
}
