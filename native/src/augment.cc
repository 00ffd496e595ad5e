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
  std::vector<float> scale;   // per output channel
  std::vector<float> offset;  // per output channel; -0 where the user's offset is 0
  bool reverseChannels;
  float* out;
  unsigned threads;
};

// Per-channel preprocessing, expanded along a row so that element j of any output row
// uses rowScale[j] and rowOffset[j]: the forward runs stay one vectorisable loop. When
// every channel has the same scale and offset (and channels keep their order), the loop
// takes them as two scalars instead.
struct Preprocess {
  std::vector<float> rowScale, rowOffset;
  std::vector<size_t> channel;  // input channel read by each output channel
  bool reverse = false;
  bool uniform = false;
  bool noOffset = false;  // every offset is -0: adding it changes nothing
};

uint32_t FloatBits(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof bits);
  return bits;
}

Preprocess MakePreprocess(const AugmentJob& job) {
  Preprocess pre;
  pre.rowScale.resize(job.w * job.c);
  pre.rowOffset.resize(job.w * job.c);
  for (size_t j = 0; j < job.w * job.c; ++j) {
    pre.rowScale[j] = job.scale[j % job.c];
    pre.rowOffset[j] = job.offset[j % job.c];
  }
  pre.channel.resize(job.c);
  for (size_t k = 0; k < job.c; ++k) pre.channel[k] = job.reverseChannels ? job.c - 1 - k : k;
  pre.reverse = job.reverseChannels && job.c > 1;
  // Compared bitwise: -0 and +0 offsets differ in what they do to a product of -0.
  pre.uniform = !pre.reverse;
  for (size_t k = 1; k < job.c; ++k) {
    pre.uniform = pre.uniform && FloatBits(job.scale[k]) == FloatBits(job.scale[0]) &&
                  FloatBits(job.offset[k]) == FloatBits(job.offset[0]);
  }
  pre.noOffset =
      std::all_of(job.offset.begin(), job.offset.end(), [](float o) { return FloatBits(o) == FloatBits(-0.0f); });
  return pre;
}

// out = float32(float32(x * scale) + offset): two roundings (the addon is built without
// contraction), the same as the reference's Math.fround(Math.fround(x * s) + o).
template <typename T, int kChannels, bool kReverse, int kStep>
void WritePixels(const T* in, float* out, int64_t count, size_t dynamicChannels, const Preprocess& pre) {
  if constexpr (kChannels > 0) {
    // Locals, so the compiler keeps them in registers across the stores.
    float scale[kChannels], offset[kChannels];
    for (int k = 0; k < kChannels; ++k) {
      scale[k] = pre.rowScale[k];
      offset[k] = pre.rowOffset[k];
    }
    for (int64_t p = 0; p < count; ++p) {
      const T* s = in + kStep * p * kChannels;
      for (int k = 0; k < kChannels; ++k) {
        out[p * kChannels + k] = scale[k] * static_cast<float>(s[kReverse ? kChannels - 1 - k : k]) + offset[k];
      }
    }
  } else {
    const size_t c = dynamicChannels;
    const float* scale = pre.rowScale.data();
    const float* offset = pre.rowOffset.data();
    const size_t* channel = pre.channel.data();
    for (int64_t p = 0; p < count; ++p) {
      const T* s = in + kStep * p * static_cast<int64_t>(c);
      for (size_t k = 0; k < c; ++k) out[p * c + k] = scale[k] * static_cast<float>(s[channel[k]]) + offset[k];
    }
  }
}

template <typename T, int kChannels>
void WriteRow(const T* in, float* out, const std::vector<Run>& runs, size_t dynamicChannels, const Preprocess& pre,
              float cval) {
  const size_t c = kChannels > 0 ? static_cast<size_t>(kChannels) : dynamicChannels;
  for (const Run& run : runs) {
    float* o = out + run.x * c;
    const size_t count = static_cast<size_t>(run.length) * c;
    if (run.src < 0) {
      std::fill(o, o + count, cval);
    } else if (run.step == 1 && !pre.reverse) {
      const T* s = in + run.src * c;
      if (pre.uniform && pre.noOffset) {
        const float scale = pre.rowScale[0];
        for (size_t j = 0; j < count; ++j) o[j] = scale * static_cast<float>(s[j]);
      } else if (pre.uniform) {
        const float scale = pre.rowScale[0], offset = pre.rowOffset[0];
        for (size_t j = 0; j < count; ++j) o[j] = scale * static_cast<float>(s[j]) + offset;
      } else {
        const float* scale = pre.rowScale.data() + run.x * c;
        const float* offset = pre.rowOffset.data() + run.x * c;
        for (size_t j = 0; j < count; ++j) o[j] = scale[j] * static_cast<float>(s[j]) + offset[j];
      }
    } else {
      const T* s = in + run.src * c;
      if (run.step == 1) {
        WritePixels<T, kChannels, true, 1>(s, o, run.length, c, pre);
      } else if (pre.reverse) {
        WritePixels<T, kChannels, true, -1>(s, o, run.length, c, pre);
      } else if (pre.uniform && pre.noOffset) {
        const float scale = pre.rowScale[0];
        for (int64_t p = 0; p < run.length; ++p) {
          const T* px = s - p * static_cast<int64_t>(c);
          for (size_t k = 0; k < c; ++k) o[p * c + k] = scale * static_cast<float>(px[k]);
        }
      } else {
        WritePixels<T, kChannels, false, -1>(s, o, run.length, c, pre);
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
  const Preprocess pre = MakePreprocess(job);
  auto writeRow = [&](size_t view, size_t image, size_t y) {
    float* out = job.out + ((view * job.n + image) * job.h + y) * rowElems;
    const int64_t sy = plans[view].rows[y];
    if (sy < 0) {
      std::fill(out, out + rowElems, job.cval);
    } else {
      WriteRow<T, kChannels>(images + image * imageElems + static_cast<size_t>(sy) * rowElems, out, plans[view].runs,
                             job.c, pre, job.cval);
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
  if (info.Length() != 13) throw Napi::TypeError::New(env, "native: augment expects 13 arguments");
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
  auto scale = TypedArrayArg<float>(info[8], napi_float32_array, "scale");
  auto offset = TypedArrayArg<float>(info[9], napi_float32_array, "offset");
  if (scale.length != job.c || offset.length != job.c)
    throw Napi::RangeError::New(env, "native: scale and offset need one value per channel");
  job.scale.assign(scale.data, scale.data + scale.length);
  job.offset.assign(offset.data, offset.data + offset.length);
  if (!info[10].IsBoolean()) throw Napi::TypeError::New(env, "native: reverseChannels must be a boolean");
  job.reverseChannels = info[10].As<Napi::Boolean>().Value();

  size_t outElems;
  if (!CheckedProduct({job.views.size(), inputElems}, &outElems) || outElems > SIZE_MAX / sizeof(float)) {
    throw Napi::RangeError::New(env, "native: output size overflows");
  }
  auto out = TypedArrayArg<float>(info[11], napi_float32_array, "out");
  if (out.length != outElems)
    throw Napi::RangeError::New(env, "native: out length does not match views * n * h * w * c");
  if (Overlaps(out.data, out.length * sizeof(float), job.images, imageBytes)) {
    throw Napi::RangeError::New(env, "native: out overlaps images");
  }
  job.out = out.data;
  job.threads = ThreadsArg(info[12]);
  return job;
}

class AugmentWorker : public PromiseWorker {
 public:
  AugmentWorker(Napi::Env env, AugmentJob job, const Napi::CallbackInfo& info)
      : PromiseWorker(env, "tta:augment", {info[0], info[11]}), job_(std::move(job)) {}

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
