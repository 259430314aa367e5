// The renderer's pixel loops, mirroring sim/render.ts operation for operation (float32 image,
// double arithmetic, the same erf approximation and noise-table walk), in parallel over rows.
#include "skyvox/render.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

namespace skyvox {
namespace {

double erf_as(double x) {
  // Abramowitz & Stegun 7.1.26, as sim/stats.ts.
  const double s = x < 0 ? -1.0 : (x > 0 ? 1.0 : 0.0);
  const double a = std::fabs(x);
  const double t = 1 / (1 + 0.3275911 * a);
  const double y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * std::exp(-a * a);
  return s * y;
}

template <typename F>
void parallel_rows(int h, int threads, F&& fn) {
  const unsigned hw = std::thread::hardware_concurrency();
  const int n = std::max(1, std::min(h, threads > 0 ? threads : static_cast<int>(hw ? hw : 1)));
  std::vector<std::thread> pool;
  for (int i = 1; i < n; i++) pool.emplace_back([&, i] { fn(h * i / n, h * (i + 1) / n); });
  fn(0, h / n);
  for (auto& t : pool) t.join();
}

void add_gaussian(float* img, int w, int h, double u, double v, double sigma, double flux) {
  const int reach = static_cast<int>(std::ceil(4 * sigma + 1));
  const int x0 = std::max(0, static_cast<int>(std::floor(u)) - reach), x1 = std::min(w - 1, static_cast<int>(std::ceil(u)) + reach);
  const int y0 = std::max(0, static_cast<int>(std::floor(v)) - reach), y1 = std::min(h - 1, static_cast<int>(std::ceil(v)) + reach);
  if (x0 > x1 || y0 > y1) return;
  const double s = 1 / sigma;
  std::vector<double> wx(x1 - x0 + 1);
  for (int x = x0; x <= x1; x++) wx[x - x0] = normal_cdf((x + 0.5 - u) * s) - normal_cdf((x - 0.5 - u) * s);
  for (int y = y0; y <= y1; y++) {
    const double wy = flux * (normal_cdf((y + 0.5 - v) * s) - normal_cdf((y - 0.5 - v) * s));
    if (wy == 0) continue;
    float* row = img + static_cast<size_t>(y) * w;
    for (int x = x0; x <= x1; x++) row[x] = static_cast<float>(row[x] + wy * wx[x - x0]);
  }
}

}  // namespace

double normal_cdf(double x) { return 0.5 * (1 + erf_as(x / std::sqrt(2.0))); }

void render_frame(const RenderInput& in, uint8_t* out, std::vector<float>& img) {
  const int w = in.width, h = in.height, G = in.grid;
  img.resize(static_cast<size_t>(w) * h);
  parallel_rows(h, in.threads, [&](int r0, int r1) {
    for (int y = r0; y < r1; y++) {
      const double fy = (static_cast<double>(y) / (h - 1 > 0 ? h - 1 : 1)) * G;
      const int gy = std::min(G - 1, static_cast<int>(std::floor(fy)));
      const double ty = fy - gy;
      float* row = img.data() + static_cast<size_t>(y) * w;
      for (int x = 0; x < w; x++) {
        const double fx = (static_cast<double>(x) / (w - 1 > 0 ? w - 1 : 1)) * G;
        const int gx = std::min(G - 1, static_cast<int>(std::floor(fx)));
        const double tx = fx - gx;
        const int i0 = gy * (G + 1) + gx;
        const double z = (in.sky_grid[i0] * (1 - tx) + in.sky_grid[i0 + 1] * tx) * (1 - ty) + (in.sky_grid[i0 + G + 1] * (1 - tx) + in.sky_grid[i0 + G + 2] * tx) * ty;
        row[x] = static_cast<float>(in.sky_dn * (1.075 - 0.15 * std::max(0.0, std::min(1.0, z))));
      }
      for (const auto& c : in.clouds) {
        const double reach = 3 * c.sigma;
        if (y < std::floor(c.v - reach * 0.5) || y > std::ceil(c.v + reach * 0.5)) continue;
        const int x0 = std::max(0, static_cast<int>(std::floor(c.u - reach))), x1 = std::min(w - 1, static_cast<int>(std::ceil(c.u + reach)));
        const double inv = 1 / (2 * c.sigma * c.sigma);
        const double dy = (y - c.v) * 2;
        for (int x = x0; x <= x1; x++) {
          const double dx = x - c.u;
          row[x] = static_cast<float>(row[x] + c.amplitude * std::exp(-(dx * dx + dy * dy) * inv));
        }
      }
    }
  });
  for (const auto& g : in.objects) add_gaussian(img.data(), w, h, g.u, g.v, g.sigma, g.flux);

  const bool wide = in.bit_depth > 8;
  const double max = std::ldexp(1.0, in.bit_depth) - 1;
  const double read2 = in.read_noise_dn * in.read_noise_dn, inv_gain = 1 / in.gain_e_per_dn;
  const uint32_t mask = in.noise_size - 1;
  parallel_rows(h, in.threads, [&](int r0, int r1) {
    uint32_t at = static_cast<uint32_t>((in.noise_at + static_cast<uint64_t>(r0) * w * in.noise_stride) & mask);
    for (size_t i = static_cast<size_t>(r0) * w; i < static_cast<size_t>(r1) * w; i++) {
      const double level = img[i];
      const double noisy = level + std::sqrt(read2 + (level > 0 ? level * inv_gain : 0)) * in.noise[at];
      at = (at + in.noise_stride) & mask;
      const double q = noisy <= 0 ? 0 : noisy >= max ? max : std::floor(noisy + 0.5);
      if (wide) {
        const uint16_t v = static_cast<uint16_t>(q);
        out[2 * i] = static_cast<uint8_t>(v & 0xff);
        out[2 * i + 1] = static_cast<uint8_t>(v >> 8);
      } else {
        out[i] = static_cast<uint8_t>(q);
      }
    }
  });
  for (const auto* list : {&in.hot, &in.dead}) {
    const uint16_t v = list == &in.hot ? static_cast<uint16_t>(max) : 0;
    for (const int32_t i : *list) {
      if (wide) {
        out[2 * static_cast<size_t>(i)] = static_cast<uint8_t>(v & 0xff);
        out[2 * static_cast<size_t>(i) + 1] = static_cast<uint8_t>(v >> 8);
      } else {
        out[i] = static_cast<uint8_t>(v);
      }
    }
  }
}

}  // namespace skyvox
