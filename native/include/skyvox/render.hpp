// Pixel work of the simulator's renderer: sky, clouds, objects integrated over pixels, noise,
// quantisation, defects. Geometry (projections, object images, glints) is computed by the
// caller; this fills pixels, on all cores. Plain C++17; no Node.
#pragma once
#include <cstdint>
#include <vector>

namespace skyvox {

struct RenderGaussian {
  double u, v, sigma, flux;  // centre (px), spread (px), total signal (DN·px, signed)
};

struct RenderCloud {
  double u, v, sigma, amplitude;  // centre at this time (px), size (px), peak (DN)
};

struct RenderInput {
  int width, height, bit_depth;
  double sky_dn;
  const float* sky_grid;  // (G+1)² up-components of view rays on a G×G grid over the image
  int grid;               // G
  std::vector<RenderCloud> clouds;
  std::vector<RenderGaussian> objects;  // objects, then glints
  std::vector<int32_t> hot, dead;
  double read_noise_dn, gain_e_per_dn;
  const float* noise;   // standard normals
  uint32_t noise_size;  // length of the first walk (the table)
  uint32_t noise_walk2; // length of the second walk (coprime with the first)
  uint32_t noise_at, noise_at2;
  int threads;         // 0: all cores
};

// Renders into `out` (width·height bytes, or ×2 little-endian for bit depths above 8).
void render_frame(const RenderInput& in, uint8_t* out);

// Standard normal CDF, the same approximation the TypeScript reference uses.
double normal_cdf(double x);

}  // namespace skyvox
