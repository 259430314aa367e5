// Standalone checks and timings of the native kernels, no Node needed (for machines such as
// the GPU box). Prints one JSON object; exits non-zero when a check fails.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "skyvox/motion.hpp"

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

  // 2. Timing of the pixel pass + components on 1080p, 4K, 8K.
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
  std::printf("{\"simd\":\"%s\",\"checks\":[%s],\"motion_cpu\":[%s],\"ok\":%s}\n", motion_simd_path(), checks.c_str(), timings.c_str(), ok ? "true" : "false");
  return ok ? 0 : 1;
}
