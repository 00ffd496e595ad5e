// Batched flip and shift augmentation. Each output row is described once per view
// as a few runs of source pixels (forward, reversed by a flip, or the constant
// fill), so the inner loops are straight conversions that the compiler vectorises.
#include "augment.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common.h"

namespace tta {

namespace {

enum class Fill : int { kConstant = 0, kNearest = 1, kReflect = 2, kWrap = 3 };

struct View {
  bool flip;
  int64_t dx;
  int64_t dy;
};

// Maps a coordinate of the shifted image back into [0, size), or -1 for `constant`.
int64_t SourceIndex(int64_t p, int64_t size, Fill fill) {
  if (p >= 0 && p < size) return p;
  switch (fill) {
    case Fill::kConstant:
      return -1;
    case Fill::kNearest:
      return p < 0 ? 0 : size - 1;
    case Fill::kReflect: {
      // numpy's 'symmetric': period 2*size, edge pixel repeated.
      int64_t period = 2 * size;
      int64_t m = ((p % period) + period) % period;
      return m < size ? m : period - 1 - m;
    }
    case Fill::kWrap:
      return ((p % size) + size) % size;
  }
  return -1;
}

// `length` output pixels starting at `x`, read from source pixel `src` onwards
// with `step` +1 or -1; src < 0 means the constant fill.
struct Run {
  int64_t x;
  int64_t length;
  int64_t src;
  int step;
};

struct ViewPlan {
  std::vector<int64_t> rows;  // source row per output row, -1 for constant
  std::vector<Run> runs;
};

ViewPlan PlanView(const View& view, int64_t h, int64_t w, Fill fill) {
  ViewPlan plan;
  plan.rows.resize(h);
  for (int64_t y = 0; y < h; ++y) plan.rows[y] = SourceIndex(y - view.dy, h, fill);
  std::vector<int64_t> cols(w);
  for (int64_t x = 0; x < w; ++x) {
    int64_t s = SourceIndex(x - view.dx, w, fill);
    cols[x] = (s >= 0 && view.flip) ? w - 1 - s : s;
  }
  int64_t x = 0;
  while (x < w) {
    Run run{x, 1, cols[x], 1};
    if (run.src < 0) {
      while (x + run.length < w && cols[x + run.length] < 0) ++run.length;
    } else if (x + 1 < w && cols[x + 1] >= 0 && (cols[x + 1] - cols[x] == 1 || cols[x + 1] - cols[x] == -1)) {
      run.step = static_cast<int>(cols[x + 1] - cols[x]);
      while (x + run.length < w && cols[x + run.length] >= 0 &&
             cols[x + run.length] == run.src + run.step * run.length) {
        ++run.length;
      }
    }
    plan.runs.push_back(run);
    x += run.length;
  }
  return plan;
}

struct AugmentJob {
  const void* images;
  bool uint8;
  size_t n, h, w, c;
  std::vector<View> views;
  Fill fill;
  float cval;
  float scale;
  float* out;
  unsigned threads;
};

template <typename T, int kChannels>
void WriteRow(const T* in, float* out, const std::vector<Run>& runs, size_t dynamicChannels, float scale, float cval) {
  const size_t c = kChannels > 0 ? static_cast<size_t>(kChannels) : dynamicChannels;
  for (const Run& run : runs) {
    float* o = out + run.x * c;
    const size_t count = static_cast<size_t>(run.length) * c;
    if (run.src < 0) {
      std::fill(o, o + count, cval);
    } else if (run.step == 1) {
      const T* s = in + run.src * c;
      for (size_t j = 0; j < count; ++j) o[j] = scale * static_cast<float>(s[j]);
    } else {
      for (int64_t p = 0; p < run.length; ++p) {
        const T* s = in + (run.src - p) * c;
        for (size_t k = 0; k < c; ++k) o[p * c + k] = scale * static_cast<float>(s[k]);
      }
    }
  }
}

template <typename T, int kChannels>
void RunAugment(const AugmentJob& job) {
  const T* images = static_cast<const T*>(job.images);
  const size_t rowElems = job.w * job.c;
  const size_t imageElems = job.h * rowElems;
  std::vector<ViewPlan> plans;
  plans.reserve(job.views.size());
  for (const View& v : job.views) {
    plans.push_back(PlanView(v, static_cast<int64_t>(job.h), static_cast<int64_t>(job.w), job.fill));
  }
  const size_t views = job.views.size();
  auto writeRow = [&](size_t view, size_t image, size_t y) {
    float* out = job.out + ((view * job.n + image) * job.h + y) * rowElems;
    const int64_t sy = plans[view].rows[y];
    if (sy < 0) {
      std::fill(out, out + rowElems, job.cval);
    } else {
      WriteRow<T, kChannels>(images + image * imageElems + static_cast<size_t>(sy) * rowElems, out, plans[view].runs,
                             job.c, job.scale, job.cval);
    }
  };
  const unsigned threads = ThreadsFor(job.n * views * imageElems, job.threads);
  if (job.n >= 4 * static_cast<size_t>(threads)) {
    // Image-major: every view of an image is written while that image is in cache,
    // so the input is read from memory once however many views there are.
    ParallelFor(job.n, threads, [&](size_t begin, size_t end) {
      for (size_t image = begin; image < end; ++image) {
        for (size_t view = 0; view < views; ++view) {
          for (size_t y = 0; y < job.h; ++y) writeRow(view, image, y);
        }
      }
    });
  } else {
    // Few large images: split rows instead, so every thread has work.
    ParallelFor(views * job.n * job.h, threads, [&](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r) writeRow(r / (job.h * job.n), (r / job.h) % job.n, r % job.h);
    });
  }
}

template <typename T>
void DispatchChannels(const AugmentJob& job) {
  switch (job.c) {
    case 1:
      return RunAugment<T, 1>(job);
    case 3:
      return RunAugment<T, 3>(job);
    case 4:
      return RunAugment<T, 4>(job);
    default:
      return RunAugment<T, 0>(job);
  }
}

void Execute(const AugmentJob& job) {
  if (job.n == 0 || job.views.empty()) return;
  if (job.uint8) {
    DispatchChannels<uint8_t>(job);
  } else {
    DispatchChannels<float>(job);
  }
}

// Parses and re-checks everything that protects memory; the TS layer has already
// given friendly errors for anything a user could get wrong.
AugmentJob ParseArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 11) throw Napi::TypeError::New(env, "native: augment expects 11 arguments");
  AugmentJob job;
  const int64_t maxDim = int64_t{1} << 40;
  job.n = static_cast<size_t>(IntegerArg(info[1], 0, maxDim, "n"));
  job.h = static_cast<size_t>(IntegerArg(info[2], 1, maxDim, "h"));
  job.w = static_cast<size_t>(IntegerArg(info[3], 1, maxDim, "w"));
  job.c = static_cast<size_t>(IntegerArg(info[4], 1, maxDim, "c"));
  size_t inputElems;
  if (!CheckedProduct({job.n, job.h, job.w, job.c}, &inputElems))
    throw Napi::RangeError::New(env, "native: shape overflows");

  const Napi::Value images = info[0];
  size_t imageBytes;
  if (images.IsTypedArray() && images.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array) {
    auto span = TypedArrayArg<uint8_t>(images, napi_uint8_array, "images");
    if (span.length != inputElems) throw Napi::RangeError::New(env, "native: images length does not match shape");
    job.images = span.data;
    job.uint8 = true;
    imageBytes = span.length;
  } else {
    auto span = TypedArrayArg<float>(images, napi_float32_array, "images");
    if (span.length != inputElems) throw Napi::RangeError::New(env, "native: images length does not match shape");
    job.images = span.data;
    job.uint8 = false;
    imageBytes = span.length * sizeof(float);
  }

  auto views = TypedArrayArg<int32_t>(info[5], napi_int32_array, "views");
  if (views.length == 0 || views.length % 3 != 0)
    throw Napi::RangeError::New(env, "native: views must hold (flip, dx, dy) triples");
  for (size_t v = 0; v < views.length; v += 3) {
    job.views.push_back(View{views.data[v] != 0, views.data[v + 1], views.data[v + 2]});
  }
  job.fill = static_cast<Fill>(IntegerArg(info[6], 0, 3, "fill"));
  job.cval = static_cast<float>(NumberArg(info[7], "cval"));
  job.scale = static_cast<float>(NumberArg(info[8], "scale"));

  size_t outElems;
  if (!CheckedProduct({job.views.size(), inputElems}, &outElems) || outElems > SIZE_MAX / sizeof(float)) {
    throw Napi::RangeError::New(env, "native: output size overflows");
  }
  auto out = TypedArrayArg<float>(info[9], napi_float32_array, "out");
  if (out.length != outElems)
    throw Napi::RangeError::New(env, "native: out length does not match views * n * h * w * c");
  if (Overlaps(out.data, out.length * sizeof(float), job.images, imageBytes)) {
    throw Napi::RangeError::New(env, "native: out overlaps images");
  }
  job.out = out.data;
  job.threads = ThreadsArg(info[10]);
  return job;
}

class AugmentWorker : public PromiseWorker {
 public:
  AugmentWorker(Napi::Env env, AugmentJob job, const Napi::CallbackInfo& info)
      : PromiseWorker(env, "tta:augment", {info[0], info[9]}), job_(std::move(job)) {}

 protected:
  void Run() override { tta::Execute(job_); }

 private:
  AugmentJob job_;
};

}  // namespace

Napi::Value Augment(const Napi::CallbackInfo& info) {
  Execute(ParseArgs(info));
  return info.Env().Undefined();
}

Napi::Value AugmentAsync(const Napi::CallbackInfo& info) {
  AugmentJob job = ParseArgs(info);
  auto* worker = new AugmentWorker(info.Env(), std::move(job), info);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace tta
