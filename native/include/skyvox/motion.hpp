// Motion extraction for one camera: background model, noise estimate, hysteresis mask,
// 8-connected components and blob moments. Plain C++17; no Node, no CUDA.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace skyvox {

struct MotionParams {
  float alpha = 0.05f;          // background learning rate for background pixels
  float alpha_foreground = 0.005f;  // ... and for pixels inside the mask (slow targets are not absorbed)
  int foreground_hold_frames = 50;  // ... for at most this many frames in a row, then alpha again (ghosts fade)
  float k_high = 5.0f;          // a blob needs at least one pixel above k_high·σ
  float k_low = 3.0f;           // and grows over 8-connected pixels above k_low·σ
  float noise_alpha = 0.05f;    // learning rate of the per-tile noise variance
  // A tile's noise estimate holds the largest of its recent frames' variances, decaying by a
  // factor e every this many frames (0: the running mean alone). Coded video needs it: between
  // a codec's refreshes most blocks repeat exactly and the mean falls to min_sigma, then a
  // refresh moves whole blocks by a few DN at once. kAutoHold (the default): kCodedHoldFrames
  // while the frames look coded — most sampled 8×8 blocks repeat the last frame exactly, which
  // sensor noise never does — and 0 otherwise.
  static constexpr int kAutoHold = -1;
  static constexpr int kCodedHoldFrames = 10;
  int noise_hold_frames = kAutoHold;
  // The noise estimate winsorises d² at (k_low·σ)², so a target inflates its own tile's σ
  // little, and divides by E[min(Z², k_low²)] to stay unbiased; 0: computed here with erf.
  double noise_correction = 0.0;
  float min_sigma = 0.5f;       // floor of σ (DN), so a perfectly flat sky does not fire on ±1
  int tile = 16;                // noise tiles are tile×tile pixels
  int warmup_frames = 8;        // frames that only train the model
  int max_blobs = 4096;         // blobs beyond this are counted, not returned (weakest first)
  float psf_sigma = 1.0f;       // width (px) of the Gaussian window that refines centroids
  int centroid_iterations = 5;  // refinement steps of the windowed centroid (0: plain centroid)
  int window_margin = 2;        // moments use the blob's box grown by this many pixels
  int threads = 0;              // 0: all hardware threads (CPU pass)
  // Where the pixel pass runs: kAuto takes the GPU when this build has the CUDA twin and a
  // device answers, else the CPU; kCuda insists (and fails, saying why, without one).
  enum Backend { kAuto = 0, kCpu = 1, kCuda = 2 };
  int backend = kAuto;
  // Stationary point targets: a pixel that stands out from the ring of pixels `stationary_ring`
  // away by more than k_stationary·σ (ring mean), with no ring pixel halfway up to it (not an
  // edge) and its 3×3 mean at least `stationary_compactness` of its contrast (not a lone hot
  // pixel), teaches the background the ring's mean instead of itself, and so do its 8
  // neighbours: a target that hovers from the first frame on is not learned as sky. 0: off.
  float k_stationary = 4.0f;
  int stationary_ring = 3;
  float stationary_compactness = 0.25f;
};

// Per blob, in this order on the wire (schemas/detections.ts): x, y, var_x, var_y, cov_xy,
// flux, area, snr, peak. Then the bounding box (inclusive).
struct Blob {
  float x, y, var_x, var_y, cov_xy, flux, area, snr, peak;
  int32_t x0, y0, x1, y1;
};

struct MotionResult {
  std::vector<Blob> blobs;
  int32_t overflow = 0;
  int64_t foreground_pixels = 0;
  bool warming_up = false;
  bool coded = false;  // the frames look like coded video (noise_hold_frames, kAutoHold)
};

class MotionDetector {
 public:
  MotionDetector(int width, int height, int bytes_per_pixel, const MotionParams& params);
  ~MotionDetector();
  MotionDetector(const MotionDetector&) = delete;
  MotionDetector& operator=(const MotionDetector&) = delete;

  // `frame` holds width·height pixels, 8-bit or little-endian 16-bit.
  MotionResult process(const uint8_t* frame);

  int width() const;
  int height() const;
  int bytes_per_pixel() const;
  int threads() const;
  int64_t frames() const;
  // "cuda" or "cpu": where this detector's pixel pass runs.
  const char* backend() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Which SIMD path the pixel passes take on this CPU ("avx512", "avx2" or "scalar").
const char* motion_simd_path();

// Whether the CUDA twin is built in and a device answers (kAuto then takes it), and if not, why.
struct MotionCudaInfo {
  bool built, available;
  std::string device, reason;
};
MotionCudaInfo motion_cuda_info();

}  // namespace skyvox
