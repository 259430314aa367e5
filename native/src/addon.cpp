// The thin Node binding: arguments were validated in TypeScript (kernels/native.ts); here they
// are converted once into plain C++ values, the kernel runs on a worker thread touching only
// those, and results come back as typed arrays over the kernel's own memory (no copies).
#include <napi.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "skyvox/motion.hpp"

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

class MotionWrap : public Napi::ObjectWrap<MotionWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "MotionDetector", {InstanceMethod("process", &MotionWrap::Process), InstanceAccessor("threads", &MotionWrap::Threads, nullptr)});
  }

  explicit MotionWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MotionWrap>(info) {
    const Napi::Object o = info[3].As<Napi::Object>();
    MotionParams p;
    p.alpha = num(o, "alpha", p.alpha);
    p.alpha_foreground = num(o, "alphaForeground", p.alpha_foreground);
    p.k_high = num(o, "kHigh", p.k_high);
    p.k_low = num(o, "kLow", p.k_low);
    p.noise_alpha = num(o, "noiseAlpha", p.noise_alpha);
    p.min_sigma = num(o, "minSigma", p.min_sigma);
    p.tile = integer(o, "tile", p.tile);
    p.warmup_frames = integer(o, "warmupFrames", p.warmup_frames);
    p.max_blobs = integer(o, "maxBlobs", p.max_blobs);
    p.psf_sigma = num(o, "psfSigma", p.psf_sigma);
    p.centroid_iterations = integer(o, "centroidIterations", p.centroid_iterations);
    p.window_margin = integer(o, "windowMargin", p.window_margin);
    p.threads = integer(o, "threads", p.threads);
    p.foreground_hold_frames = integer(o, "foregroundHoldFrames", p.foreground_hold_frames);
    detector_ = std::make_shared<MotionDetector>(info[0].As<Napi::Number>().Int32Value(), info[1].As<Napi::Number>().Int32Value(), info[2].As<Napi::Number>().Int32Value(), p);
    busy_ = std::make_shared<std::atomic<bool>>(false);
  }

 private:
  class Worker : public Napi::AsyncWorker {
   public:
    Worker(Napi::Env env, std::shared_ptr<MotionDetector> det, std::shared_ptr<std::atomic<bool>> busy, Napi::Uint8Array frame)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), det_(std::move(det)), busy_(std::move(busy)), data_(frame.Data()) {
      frame_ = Napi::Persistent(frame);  // keeps the pixels alive while the worker reads them
    }
    Napi::Promise Promise() { return deferred_.Promise(); }

    void Execute() override { result_ = std::make_unique<MotionResult>(det_->process(data_)); }

    void OnOK() override {
      busy_->store(false);
      Napi::Env env = Env();
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
      out.Set("blobs", buf);
      if (n == 0) delete res;
      deferred_.Resolve(out);
    }

    void OnError(const Napi::Error& e) override {
      busy_->store(false);
      deferred_.Reject(e.Value());
    }

   private:
    Napi::Promise::Deferred deferred_;
    std::shared_ptr<MotionDetector> det_;
    std::shared_ptr<std::atomic<bool>> busy_;
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

  std::shared_ptr<MotionDetector> detector_;
  std::shared_ptr<std::atomic<bool>> busy_;
};

Napi::Object Info(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("simd", skyvox::motion_simd_path());
  o.Set("cuda", Napi::Boolean::New(env, false));
  o.Set("cudaReason", "this build has no CUDA kernels yet (CPU path)");
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("MotionDetector", MotionWrap::Define(env));
  exports.Set("info", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Info(info.Env()); }));
  return exports;
}

}  // namespace

NODE_API_MODULE(skyvox_native, Init)
