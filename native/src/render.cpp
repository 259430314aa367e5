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

// One row of the sky gradient: the grid row interpolated at each column (as sim/render.ts).
__attribute__((target_clones("avx512f", "avx2", "default")))
void sky_row(const double* __restrict rowz, const int* __restrict gxs, const double* __restrict txs, int w, double sky_dn, float* __restrict row) {
  for (int x = 0; x < w; x++) {
    const double z = rowz[gxs[x]] * (1 - txs[x]) + rowz[gxs[x] + 1] * txs[x];
    row[x] = static_cast<float>(sky_dn * (1.075 - 0.15 * std::max(0.0, std::min(1.0, z))));
  }
}

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "frames above 8 bits are written as native 16-bit words: little-endian only");
// The output is a byte buffer; 16-bit stores into it must not be assumed not to alias it.
typedef uint16_t __attribute__((may_alias)) u16_alias;

// Noise, rounding and clamping for n pixels: z = (a + b)/√2 from the two walks (as sim/render.ts).
template <bool Wide>
__attribute__((target_clones("avx512f", "avx2", "default")))
void quantize_span(const float* __restrict img, const float* __restrict a, const float* __restrict b, size_t n, double read2, double inv_gain, double max, uint8_t* __restrict out) {
  for (size_t k = 0; k < n; k++) {
    const double level = img[k];
    const double z = (static_cast<double>(a[k]) + static_cast<double>(b[k])) * 0.7071067811865476;
    // Branch-free forms of sim/render.ts's conditionals (same values), so the loop vectorises.
    const double noisy = level + std::sqrt(read2 + std::max(0.0, level) * inv_gain) * z;
    const double q = std::min(max, std::max(0.0, std::floor(noisy + 0.5)));
    if constexpr (Wide) {
      // One 16-bit store (the frame is little-endian, as this CPU is): written as two bytes,
      // the loop did not vectorise and an 8K 12-bit frame took twice as long.
      reinterpret_cast<u16_alias*>(out)[k] = static_cast<uint16_t>(q);
    } else {
      out[k] = static_cast<uint8_t>(q);
    }
  }
}

}  // namespace

double normal_cdf(double x) { return 0.5 * (1 + erf_as(x / std::sqrt(2.0))); }

void render_frame(const RenderInput& in, uint8_t* out) {
  const int w = in.width, h = in.height, G = in.grid;
  // Column positions on the grid, once per frame; rows interpolated once per row (as sim/render.ts).
  std::vector<int> gxs(w);
  std::vector<double> txs(w);
  for (int x = 0; x < w; x++) {
    const double fx = (static_cast<double>(x) / (w - 1 > 0 ? w - 1 : 1)) * G;
    gxs[x] = std::min(G - 1, static_cast<int>(std::floor(fx)));
    txs[x] = fx - gxs[x];
  }
  // Clouds are separable Gaussians: one exp per column here, one per row below (as sim/render.ts).
  struct CloudBox {
    int x0, x1, y0, y1;
    double inv;
    std::vector<double> ex;
  };
  std::vector<CloudBox> cloud_box;
  for (const auto& c : in.clouds) {
    const double reach = 3 * c.sigma;
    CloudBox b{std::max(0, static_cast<int>(std::floor(c.u - reach))), std::min(w - 1, static_cast<int>(std::ceil(c.u + reach))),
               std::max(0, static_cast<int>(std::floor(c.v - reach * 0.5))), std::min(h - 1, static_cast<int>(std::ceil(c.v + reach * 0.5))), 1 / (2 * c.sigma * c.sigma), {}};
    for (int x = b.x0; x <= b.x1; x++) b.ex.push_back(std::exp(-(x - c.u) * (x - c.u) * b.inv));
    cloud_box.push_back(std::move(b));
  }
  // Objects are pixel-integrated Gaussians, separable too: their column weights once per frame.
  struct ObjectBox {
    int x0, x1, y0, y1;
    std::vector<double> wx;
  };
  std::vector<ObjectBox> object_box;
  for (const auto& g : in.objects) {
    const int reach = static_cast<int>(std::ceil(4 * g.sigma + 1));
    ObjectBox b{std::max(0, static_cast<int>(std::floor(g.u)) - reach), std::min(w - 1, static_cast<int>(std::ceil(g.u)) + reach),
                std::max(0, static_cast<int>(std::floor(g.v)) - reach), std::min(h - 1, static_cast<int>(std::ceil(g.v)) + reach), {}};
    const double s = 1 / g.sigma;
    for (int x = b.x0; x <= b.x1; x++) b.wx.push_back(normal_cdf((x + 0.5 - g.u) * s) - normal_cdf((x - 0.5 - g.u) * s));
    object_box.push_back(std::move(b));
  }
  const bool wide = in.bit_depth > 8;
  const double max = std::ldexp(1.0, in.bit_depth) - 1;
  const double read2 = in.read_noise_dn * in.read_noise_dn, inv_gain = 1 / in.gain_e_per_dn;
  const uint32_t n1 = in.noise_size, n2 = in.noise_walk2;
  // One pass per row, the row held in cache: sky, clouds, objects (each pixel gets the same
  // operations in the same order as sim/render.ts's whole-image passes), then noise and
  // quantisation straight into the output — the float image never goes to memory.
  parallel_rows(h, in.threads, [&](int r0, int r1) {
    std::vector<double> rowz(G + 1);
    std::vector<float> row(w);
    for (int y = r0; y < r1; y++) {
      const double fy = (static_cast<double>(y) / (h - 1 > 0 ? h - 1 : 1)) * G;
      const int gy = std::min(G - 1, static_cast<int>(std::floor(fy)));
      const double ty = fy - gy;
      for (int g = 0; g <= G; g++) rowz[g] = in.sky_grid[gy * (G + 1) + g] * (1 - ty) + in.sky_grid[(gy + 1) * (G + 1) + g] * ty;
      sky_row(rowz.data(), gxs.data(), txs.data(), w, in.sky_dn, row.data());
      for (size_t ci = 0; ci < in.clouds.size(); ci++) {
        const auto& c = in.clouds[ci];
        const auto& b = cloud_box[ci];
        if (y < b.y0 || y > b.y1 || b.x0 > b.x1) continue;
        const double dy = (y - c.v) * 2;
        const double ay = c.amplitude * std::exp(-dy * dy * b.inv);
        for (int x = b.x0; x <= b.x1; x++) row[x] = static_cast<float>(row[x] + ay * b.ex[x - b.x0]);
      }
      for (size_t oi = 0; oi < in.objects.size(); oi++) {
        const auto& g = in.objects[oi];
        const auto& b = object_box[oi];
        if (y < b.y0 || y > b.y1 || b.x0 > b.x1) continue;
        const double s = 1 / g.sigma;
        const double wy = g.flux * (normal_cdf((y + 0.5 - g.v) * s) - normal_cdf((y - 0.5 - g.v) * s));
        if (wy == 0) continue;
        for (int x = b.x0; x <= b.x1; x++) row[x] = static_cast<float>(row[x] + wy * b.wx[x - b.x0]);
      }
      size_t i = static_cast<size_t>(y) * w;
      const size_t end = i + w;
      uint32_t at = static_cast<uint32_t>((in.noise_at + i) % n1), at2 = static_cast<uint32_t>((in.noise_at2 + i) % n2);
      while (i < end) {
        // Chunks in which neither walk wraps, so the inner loop has no branches and vectorises.
        const size_t n = std::min<size_t>({end - i, n1 - at, n2 - at2});
        const float* src = row.data() + (i - static_cast<size_t>(y) * w);
        if (wide) quantize_span<true>(src, in.noise + at, in.noise + at2, n, read2, inv_gain, max, out + 2 * i);
        else quantize_span<false>(src, in.noise + at, in.noise + at2, n, read2, inv_gain, max, out + i);
        i += n;
        at = (at + static_cast<uint32_t>(n)) % n1;
        at2 = (at2 + static_cast<uint32_t>(n)) % n2;
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
