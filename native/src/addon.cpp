// The thin Node binding: arguments were validated in TypeScript (kernels/native.ts); here they
// are converted once into plain C++ values, the kernel runs on a worker thread touching only
// those, and results come back as typed arrays over the kernel's own memory (no copies).
#include <napi.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "skyvox/motion.hpp"
#include "skyvox/voxel.hpp"
#include "skyvox/render.hpp"
#include "skyvox/naive.hpp"

namespace {

using skyvox::Blob;
using skyvox::MotionDetector;
using skyvox::MotionParams;
using skyvox::MotionResult;

float num(const Napi::Object& o, const char* key, float fallback) {
  return o.Has(key) && o.Get(key).IsNumber() ? o.Get(key).As<Napi::Number>().FloatValue() : fallback;
}
int integer(const Napi::Object& o, const char* key, int fallback) {
  return o.Has(key) && o.Get(key).IsNumber() ? o.Get(key).As<Napi::Number>().Int32Value() : fallback;
}

// An async worker that settles a promise and frees its object's one-call-at-a-time guard.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::shared_ptr<std::atomic<bool>> busy) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), busy_(std::move(busy)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void OnOK() override {
    busy_->store(false);
    deferred_.Resolve(Result(Env()));
  }
  void OnError(const Napi::Error& e) override {
    busy_->store(false);
    deferred_.Reject(e.Value());
  }

 protected:
  // Builds the resolved value on the main thread, from what Execute() left.
  virtual Napi::Value Result(Napi::Env env) = 0;

 private:
  Napi::Promise::Deferred deferred_;
  std::shared_ptr<std::atomic<bool>> busy_;
};

// Runs f on the JS thread; a C++ exception (a kernel refusing its settings, a device that
// cannot be used) becomes a JS error with its words instead of ending the process.
template <typename F>
auto js_errors(Napi::Env env, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

// A kernel's `backend` setting (checked by its TypeScript face): auto 0, cpu 1, cuda 2, as
// MotionParams and VoxelParams number them; absent means auto.
static_assert(MotionParams::kAuto == 0 && MotionParams::kCpu == 1 && MotionParams::kCuda == 2 && skyvox::VoxelParams::kCuda == 2, "backend numbers");
int backend_of(const Napi::Object& o) {
  const std::string b = o.Has("backend") && o.Get("backend").IsString() ? o.Get("backend").As<Napi::String>().Utf8Value() : "auto";
  return b == "cpu" ? 1 : b == "cuda" ? 2 : 0;
}

class MotionWrap : public Napi::ObjectWrap<MotionWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "MotionDetector", {InstanceMethod("process", &MotionWrap::Process), InstanceAccessor("threads", &MotionWrap::Threads, nullptr), InstanceAccessor("backend", &MotionWrap::Backend, nullptr)});
  }

  explicit MotionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MotionWrap>(info) {
    const Napi::Object o = info[3].As<Napi::Object>();
    MotionParams p;
    p.alpha = num(o, "alpha", p.alpha);
    p.alpha_foreground = num(o, "alphaForeground", p.alpha_foreground);
    p.k_high = num(o, "kHigh", p.k_high);
    p.k_low = num(o, "kLow", p.k_low);
    p.noise_alpha = num(o, "noiseAlpha", p.noise_alpha);
    p.noise_hold_frames = integer(o, "noiseHoldFrames", p.noise_hold_frames);
    p.min_sigma = num(o, "minSigma", p.min_sigma);
    p.tile = integer(o, "tile", p.tile);
    p.warmup_frames = integer(o, "warmupFrames", p.warmup_frames);
    p.max_blobs = integer(o, "maxBlobs", p.max_blobs);
    p.psf_sigma = num(o, "psfSigma", p.psf_sigma);
    p.centroid_iterations = integer(o, "centroidIterations", p.centroid_iterations);
    p.window_margin = integer(o, "windowMargin", p.window_margin);
    p.threads = integer(o, "threads", p.threads);
    p.foreground_hold_frames = integer(o, "foregroundHoldFrames", p.foreground_hold_frames);
    p.k_stationary = num(o, "kStationary", p.k_stationary);
    p.stationary_ring = integer(o, "stationaryRing", p.stationary_ring);
    p.stationary_compactness = num(o, "stationaryCompactness", p.stationary_compactness);
    p.backend = backend_of(o);
    p.noise_correction = o.Get("noiseCorrection").As<Napi::Number>().DoubleValue();
    detector_ = js_errors(info.Env(), [&] { return std::make_shared<MotionDetector>(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(), info[2].As<Napi::Number>().Int32Value(), p); });
    busy_ = std::make_shared<std::atomic<bool>>(false);
  }

 private:
  class Worker : public PromiseWorker {
   public:
    Worker(Napi::Env env, std::shared_ptr<MotionDetector> det, std::shared_ptr<std::atomic<bool>> busy, Napi::Uint8Array frame)
        : PromiseWorker(env, std::move(busy)), det_(std::move(det)), data_(frame.Data()) {
      frame_ = Napi::Persistent(frame);  // keeps the pixels alive while the worker reads them
    }

    void Execute() override { result_ = std::make_unique<MotionResult>(det_->process(data_)); }

   protected:
    Napi::Value Result(Napi::Env env) override {
      auto* res = result_.release();
      const size_t n = res->blobs.size();
      // One block of blobs: 9 floats then 4 ints each (13 × 4 bytes); handed over, not copied.
      static_assert(sizeof(Blob) == 13 * 4, "Blob layout");
      Napi::ArrayBuffer buf = n == 0 ? Napi::ArrayBuffer::New(env, 0)
                                     : Napi::ArrayBuffer::New(env, res->blobs.data(), n * sizeof(Blob), [](Napi::Env, void*, MotionResult* r) { delete r; }, res);
      Napi::Object out = Napi::Object::New(env);
      out.Set("count", Napi::Number::New(env, static_cast<double>(n)));
      out.Set("overflow", Napi::Number::New(env, res->overflow));
      out.Set("foregroundPixels", Napi::Number::New(env, static_cast<double>(res->foreground_pixels)));
      out.Set("warmingUp", Napi::Boolean::New(env, res->warming_up));
      out.Set("coded", Napi::Boolean::New(env, res->coded));
      out.Set("blobs", buf);
      if (n == 0) delete res;
      return out;
    }

   private:
    std::shared_ptr<MotionDetector> det_;
    Napi::Reference<Napi::Uint8Array> frame_;
    const uint8_t* data_;
    std::unique_ptr<MotionResult> result_;
  };

  Napi::Value Process(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Napi::Uint8Array frame = info[0].As<Napi::Uint8Array>();
    const size_t need = static_cast<size_t>(detector_->width()) * detector_->height() * detector_->bytes_per_pixel();
    if (frame.ByteLength() != need) {
      throw Napi::RangeError::New(env, "Expected " + std::to_string(need) + " bytes for the frame but received " + std::to_string(frame.ByteLength()));
    }
    bool idle = false;
    if (!busy_->compare_exchange_strong(idle, true)) throw Napi::Error::New(env, "this detector is already processing a frame; await the previous call");
    auto* worker = new Worker(env, detector_, busy_, frame);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  Napi::Value Threads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), detector_->threads()); }
  Napi::Value Backend(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), detector_->backend()); }

  std::shared_ptr<MotionDetector> detector_;
  std::shared_ptr<std::atomic<bool>> busy_;
};

double dnum(const Napi::Object& o, const char* key, double fallback) {
  return o.Has(key) && o.Get(key).IsNumber() ? o.Get(key).As<Napi::Number>().DoubleValue() : fallback;
}

// Sparse voxel voting: one call per frameset casts its rays and returns the refined peaks.
class VoxelWrap : public Napi::ObjectWrap<VoxelWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "VoxelGrid", {InstanceMethod("setCameras", &VoxelWrap::SetCameras), InstanceMethod("process", &VoxelWrap::Process), InstanceMethod("preallocate", &VoxelWrap::Preallocate), InstanceAccessor("backend", &VoxelWrap::Backend, nullptr)});
  }

  explicit VoxelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<VoxelWrap>(info) {
    const Napi::Object o = info[0].As<Napi::Object>();
    skyvox::VoxelParams p;
    p.min_voxel = dnum(o, "minVoxel", p.min_voxel);
    p.max_voxel = dnum(o, "maxVoxel", p.max_voxel);
    p.lod_ratio = dnum(o, "lodRatio", p.lod_ratio);
    p.cell = dnum(o, "cell", p.cell);
    const Napi::Float64Array box = o.Get("worldBox").As<Napi::Float64Array>();
    for (int a = 0; a < 3; a++) {
      p.world_min[a] = box[a];
      p.world_max[a] = box[3 + a];
    }
    p.max_range = dnum(o, "maxRange", p.max_range);
    p.decay = dnum(o, "decay", p.decay);
    p.min_cameras = static_cast<int>(dnum(o, "minCameras", p.min_cameras));
    p.min_weight = dnum(o, "minWeight", p.min_weight);
    p.ray_sigma_rad = dnum(o, "raySigmaRad", p.ray_sigma_rad);
    p.memory_budget = static_cast<size_t>(dnum(o, "memoryBudget", static_cast<double>(p.memory_budget)));
    p.threads = integer(o, "threads", p.threads);
    // Never here: touching the budget's pages blocks the event loop; `preallocate()` does it on a worker.
    p.preallocate = false;
    p.backend = backend_of(o);
    grid_ = js_errors(info.Env(), [&] { return std::make_shared<skyvox::VoxelGrid>(p); });
    busy_ = std::make_shared<std::atomic<bool>>(false);
  }

 private:
  class Worker : public PromiseWorker {
   public:
    Worker(Napi::Env env, std::shared_ptr<skyvox::VoxelGrid> g, std::shared_ptr<std::atomic<bool>> busy, std::vector<skyvox::Ray> rays)
        : PromiseWorker(env, std::move(busy)), grid_(std::move(g)), rays_(std::move(rays)) {}
    void Execute() override {
      grid_->next_frame();
      grid_->cast(rays_);
      peaks_ = grid_->peaks(rays_);
      stats_ = grid_->stats();
    }
   protected:
    Napi::Value Result(Napi::Env env) override {
      // 16 doubles per peak: x y z, covariance (9, row-major), weight, cameras, level, and how
      // many of `rays` (its nearest ray per camera, peak after peak) are its own.
      auto* values = new std::vector<double>();
      values->reserve(peaks_.size() * 16);
      auto* ray_list = new std::vector<int32_t>();
      for (const auto& pk : peaks_) {
        values->insert(values->end(), pk.position.begin(), pk.position.end());
        values->insert(values->end(), pk.covariance.begin(), pk.covariance.end());
        values->push_back(pk.weight);
        values->push_back(pk.cameras);
        values->push_back(pk.level);
        values->push_back(static_cast<double>(pk.rays.size()));
        ray_list->insert(ray_list->end(), pk.rays.begin(), pk.rays.end());
      }
      Napi::ArrayBuffer rays = ray_list->empty() ? Napi::ArrayBuffer::New(env, 0)
                                                 : Napi::ArrayBuffer::New(env, ray_list->data(), ray_list->size() * sizeof(int32_t), [](Napi::Env, void*, std::vector<int32_t>* v) { delete v; }, ray_list);
      if (ray_list->empty()) delete ray_list;
      Napi::ArrayBuffer buf = values->empty() ? Napi::ArrayBuffer::New(env, 0)
                                              : Napi::ArrayBuffer::New(env, values->data(), values->size() * sizeof(double), [](Napi::Env, void*, std::vector<double>* v) { delete v; }, values);
      if (values->empty()) delete values;
      Napi::Object out = Napi::Object::New(env);
      out.Set("peaks", buf);
      out.Set("rays", rays);
      out.Set("steps", Napi::Number::New(env, static_cast<double>(stats_.steps)));
      out.Set("bricks", Napi::Number::New(env, static_cast<double>(stats_.bricks)));
      out.Set("bytes", Napi::Number::New(env, static_cast<double>(stats_.bytes)));
      out.Set("evicted", Napi::Number::New(env, static_cast<double>(stats_.evicted)));
      out.Set("lost", Napi::Number::New(env, static_cast<double>(stats_.lost)));
      return out;
    }

   private:
    std::shared_ptr<skyvox::VoxelGrid> grid_;
    std::vector<skyvox::Ray> rays_;
    std::vector<skyvox::Peak> peaks_;
    skyvox::VoxelStats stats_;
  };

  // Takes the memory budget's bricks on a worker thread (page faults over hundreds of MB).
  class PrepareWorker : public PromiseWorker {
   public:
    PrepareWorker(Napi::Env env, std::shared_ptr<skyvox::VoxelGrid> g, std::shared_ptr<std::atomic<bool>> busy) : PromiseWorker(env, std::move(busy)), grid_(std::move(g)) {}
    void Execute() override {
      try {
        grid_->preallocate();
      } catch (const std::exception& e) {
        SetError(e.what());
      }
    }

   protected:
    Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

   private:
    std::shared_ptr<skyvox::VoxelGrid> grid_;
  };

  Napi::Value Backend(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), grid_->backend()); }

  // Camera changes touch the level map, never the bricks, so they may run while these are taken.
  Napi::Value Preallocate(const Napi::CallbackInfo& info) {
    bool idle = false;
    if (!preparing_->compare_exchange_strong(idle, true)) throw Napi::Error::New(info.Env(), "this grid is already taking its memory budget");
    auto* worker = new PrepareWorker(info.Env(), grid_, preparing_);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  Napi::Value SetCameras(const Napi::CallbackInfo& info) {
    const Napi::Float64Array c = info[0].As<Napi::Float64Array>();
    std::vector<std::array<double, 3>> centres;
    for (size_t i = 0; i + 2 < c.ElementLength(); i += 3) centres.push_back({c[i], c[i + 1], c[i + 2]});
    if (busy_->load()) throw Napi::Error::New(info.Env(), "this grid is processing; await it before changing cameras");
    grid_->set_cameras(centres);
    return info.Env().Undefined();
  }

  // (origins Float64Array 3N, dirs Float64Array 3N, weights Float32Array N, cameras Int32Array N)
  Napi::Value Process(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Napi::Float64Array o = info[0].As<Napi::Float64Array>();
    const Napi::Float64Array d = info[1].As<Napi::Float64Array>();
    const Napi::Float32Array w = info[2].As<Napi::Float32Array>();
    const Napi::Int32Array c = info[3].As<Napi::Int32Array>();
    const size_t n = w.ElementLength();
    std::vector<skyvox::Ray> rays(n);
    for (size_t i = 0; i < n; i++) rays[i] = {{o[3 * i], o[3 * i + 1], o[3 * i + 2]}, {d[3 * i], d[3 * i + 1], d[3 * i + 2]}, w[i], c[i]};
    if (preparing_->load()) throw Napi::Error::New(env, "this grid is still taking its memory budget; await preallocate()");
    bool idle = false;
    if (!busy_->compare_exchange_strong(idle, true)) throw Napi::Error::New(env, "this grid is already processing a frame; await the previous call");
    auto* worker = new Worker(env, grid_, busy_, std::move(rays));
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  std::shared_ptr<skyvox::VoxelGrid> grid_;
  std::shared_ptr<std::atomic<bool>> busy_;
  std::shared_ptr<std::atomic<bool>> preparing_ = std::make_shared<std::atomic<bool>>(false);
};

// The renderer's pixel loops for one camera: geometry comes from TypeScript, pixels go
// straight into the caller's buffer (a frame-ring slot).
class RendererWrap : public Napi::ObjectWrap<RendererWrap> {
 public:
  static Napi::Function Define(Napi::Env env) { return DefineClass(env, "Renderer", {InstanceMethod("render", &RendererWrap::Render)}); }
  explicit RendererWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RendererWrap>(info) { busy_ = std::make_shared<std::atomic<bool>>(false); }

 private:
  class Worker : public PromiseWorker {
   public:
    Worker(Napi::Env env, std::shared_ptr<std::atomic<bool>> busy, skyvox::RenderInput in, uint8_t* out, std::vector<Napi::Reference<Napi::Value>> keep)
        : PromiseWorker(env, std::move(busy)), in_(std::move(in)), out_(out), keep_(std::move(keep)) {}
    void Execute() override { skyvox::render_frame(in_, out_); }

   protected:
    Napi::Value Result(Napi::Env env) override { return env.Undefined(); }

   private:
    skyvox::RenderInput in_;
    uint8_t* out_;
    std::vector<Napi::Reference<Napi::Value>> keep_;  // the typed arrays stay alive while the worker reads them
  };

  // (out, {width, height, bitDepth, skyDn, grid, readNoiseDn, gainEPerDn, noiseAt, noiseStride, threads},
  //  skyGrid Float32Array, clouds Float64Array(4n), objects Float64Array(4n), hot Int32Array, dead Int32Array, noise Float32Array)
  Napi::Value Render(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Napi::Uint8Array out = info[0].As<Napi::Uint8Array>();
    const Napi::Object o = info[1].As<Napi::Object>();
    const Napi::Float32Array grid = info[2].As<Napi::Float32Array>();
    const Napi::Float64Array clouds = info[3].As<Napi::Float64Array>();
    const Napi::Float64Array objects = info[4].As<Napi::Float64Array>();
    const Napi::Int32Array hot = info[5].As<Napi::Int32Array>();
    const Napi::Int32Array dead = info[6].As<Napi::Int32Array>();
    const Napi::Float32Array noise = info[7].As<Napi::Float32Array>();
    skyvox::RenderInput in;
    in.width = integer(o, "width", 0);
    in.height = integer(o, "height", 0);
    in.bit_depth = integer(o, "bitDepth", 8);
    in.sky_dn = dnum(o, "skyDn", 0);
    in.grid = integer(o, "grid", 16);
    in.read_noise_dn = dnum(o, "readNoiseDn", 0);
    in.gain_e_per_dn = dnum(o, "gainEPerDn", 1);
    in.noise_at = static_cast<uint32_t>(dnum(o, "noiseAt", 0));
    in.noise_at2 = static_cast<uint32_t>(dnum(o, "noiseAt2", 0));
    in.noise_walk2 = static_cast<uint32_t>(dnum(o, "noiseWalk2", 1));
    in.threads = integer(o, "threads", 0);
    in.sky_grid = grid.Data();
    in.noise = noise.Data();
    in.noise_size = static_cast<uint32_t>(noise.ElementLength());
    for (size_t i = 0; i + 3 < clouds.ElementLength(); i += 4) in.clouds.push_back({clouds[i], clouds[i + 1], clouds[i + 2], clouds[i + 3]});
    for (size_t i = 0; i + 3 < objects.ElementLength(); i += 4) in.objects.push_back({objects[i], objects[i + 1], objects[i + 2], objects[i + 3]});
    in.hot.assign(hot.Data(), hot.Data() + hot.ElementLength());
    in.dead.assign(dead.Data(), dead.Data() + dead.ElementLength());
    const size_t need = static_cast<size_t>(in.width) * in.height * (in.bit_depth > 8 ? 2 : 1);
    if (out.ByteLength() != need) throw Napi::RangeError::New(env, "Expected " + std::to_string(need) + " bytes for the frame but received " + std::to_string(out.ByteLength()));
    bool idle = false;
    if (!busy_->compare_exchange_strong(idle, true)) throw Napi::Error::New(env, "this renderer is already rendering; await the previous call");
    std::vector<Napi::Reference<Napi::Value>> keep;
    for (size_t i = 0; i < 8; i++) keep.push_back(Napi::Persistent(info[i]));
    auto* worker = new Worker(env, busy_, std::move(in), const_cast<uint8_t*>(out.Data()), std::move(keep));
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  std::shared_ptr<std::atomic<bool>> busy_;
};

Napi::Object Info(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("simd", skyvox::motion_simd_path());
  const skyvox::MotionCudaInfo gpu = skyvox::motion_cuda_info();
  o.Set("cuda", Napi::Boolean::New(env, gpu.available));
  o.Set("cudaBuilt", Napi::Boolean::New(env, gpu.built));
  o.Set("voxelBrickBytes", Napi::Number::New(env, static_cast<double>(skyvox::voxel_brick_bytes())));
  // Which way the motion kernel goes and why: the device it takes, or why it takes none.
  o.Set("cudaReason", gpu.available ? "motion pixel pass and voxel cast on " + gpu.device : gpu.reason + " (CPU path)");
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("MotionDetector", MotionWrap::Define(env));
  exports.Set("VoxelGrid", VoxelWrap::Define(env));
  exports.Set("Renderer", RendererWrap::Define(env));
  // The benchmark's scalar baseline; synchronous on purpose (it is only ever timed).
  exports.Set("naiveMotion", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
    const Napi::Uint8Array prev = info[0].As<Napi::Uint8Array>(), cur = info[1].As<Napi::Uint8Array>();
    const int w = info[2].As<Napi::Number>().Int32Value(), h = info[3].As<Napi::Number>().Int32Value();
    if (prev.ByteLength() != static_cast<size_t>(w) * h || cur.ByteLength() != static_cast<size_t>(w) * h) throw Napi::RangeError::New(info.Env(), "frame sizes do not match width × height");
    return Napi::Number::New(info.Env(), skyvox::naive_motion(prev.Data(), cur.Data(), w, h, info[4].As<Napi::Number>().Int32Value()));
  }));
  exports.Set("info", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Info(info.Env()); }));
  return exports;
}

}  // namespace

NODE_API_MODULE(skyvox_native, Init)
