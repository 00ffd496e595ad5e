// Batched augmentation: crop/zoom, bilinear resampling to the output size, flips, rotation
// by multiples of 90 degrees and shifts, with the preprocessing in the same pass. Every view
// is planned once as per-row and per-column source samples. Views that copy pixels (no
// resampling: identity, flips, shifts, crops at the output size) describe each output row
// as a few runs of source pixels (forward, reversed, down a column, or the constant fill),
// so the inner loops are straight conversions that the compiler vectorises.
#include "augment.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common.h"

namespace tta {

namespace {

enum class Fill : int { kConstant = 0, kNearest = 1, kReflect = 2, kWrap = 3 };

// One view, as lib/validate.ts resolved it: crop (inside the source) and zoom pick a window
// that is resampled to the output size, then flips, rotation by `quarterTurns` * 90 degrees
// counter-clockwise, then the shift.
struct View {
  bool flip;
  bool vflip;
  int quarterTurns;
  int64_t dx;
  int64_t dy;
  int64_t cropTop, cropLeft, cropHeight, cropWidth;
  double zoom;
};
constexpr size_t kViewFields = 10;

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

// The continuous form of SourceIndex: pixel i covers [i - 0.5, i + 0.5], so a sample
// coordinate outside [-0.5, size - 0.5] is mapped back by the fill mode (reflected about
// the outer edges, wrapped, clamped), or is outside (false) for `constant`.
bool MapCoordinate(double u, int64_t size, Fill fill, double* mapped) {
  const double n = static_cast<double>(size);
  if (u >= -0.5 && u <= n - 0.5) {
    *mapped = u;
    return true;
  }
  switch (fill) {
    case Fill::kConstant:
      return false;
    case Fill::kNearest:
      *mapped = u < 0 ? 0 : n - 1;
      return true;
    case Fill::kReflect: {
      double m = std::fmod(u + 0.5, 2 * n);
      if (m < 0) m += 2 * n;
      *mapped = m < n ? m - 0.5 : 2 * n - m - 0.5;
      return true;
    }
    case Fill::kWrap: {
      double m = std::fmod(u + 0.5, n);
      if (m < 0) m += n;
      *mapped = m - 0.5;
      return true;
    }
  }
  return false;
}

// Where one coordinate of the resampled image reads the source: the pixel offsets (index
// times the axis stride) of its two neighbours and the weight of the second, or lo < 0
// for the constant fill. Copies (no interpolation) have hi == lo and weight 0.
struct Sample {
  int64_t lo;
  int64_t hi;
  float weight;
};

// The samples of one axis of the resampled image (`outSize` long) from a window that starts
// at `windowStart` (relative to the crop) and is `windowSize` source pixels long. Bilinear
// with half-pixel centres, like tf.image.resize(..., 'bilinear', antialias=False): sample
// r sits at windowStart + (r + 0.5) * windowSize / outSize - 0.5, neighbours clamped to the
// crop. `exact` windows (integer start, windowSize == outSize) copy pixel for pixel.
std::vector<Sample> AxisSamples(int64_t cropStart, int64_t cropSize, double windowStart, double windowSize,
                                int64_t outSize, int64_t stride, Fill fill, bool exact) {
  std::vector<Sample> samples(static_cast<size_t>(outSize));
  const double scale = windowSize / static_cast<double>(outSize);
  for (int64_t r = 0; r < outSize; ++r) {
    Sample& s = samples[static_cast<size_t>(r)];
    if (exact) {
      const int64_t i = SourceIndex(static_cast<int64_t>(windowStart) + r, cropSize, fill);
      s.lo = s.hi = i < 0 ? -1 : (cropStart + i) * stride;
      s.weight = 0;
      continue;
    }
    double u;
    if (!MapCoordinate(windowStart + (static_cast<double>(r) + 0.5) * scale - 0.5, cropSize, fill, &u)) {
      s = Sample{-1, -1, 0};
      continue;
    }
    u = std::min(std::max(u, 0.0), static_cast<double>(cropSize - 1));
    const int64_t i0 = static_cast<int64_t>(std::floor(u));
    const int64_t i1 = std::min(i0 + 1, cropSize - 1);
    s = Sample{(cropStart + i0) * stride, (cropStart + i1) * stride, static_cast<float>(u - static_cast<double>(i0))};
  }
  return samples;
}

// `length` output pixels starting at `x`, read from source pixel offset `src` onwards
// with `step` (+-1, or +-w along a column); src < 0 means the constant fill.
struct Run {
  int64_t x;
  int64_t length;
  int64_t src;
  int64_t step;
};

struct ViewPlan {
  bool interpolate = false;  // some sample falls between pixels: bilinear; else copies by runs
  bool transposed = false;   // rotated by 90 or 270: output rows walk source columns
  // Per output row: the source row (offset row * w), or when transposed the source column.
  std::vector<Sample> rows;
  // Per output column: the source column, or when transposed the source row (offset row * w).
  std::vector<Sample> cols;
  std::vector<Run> runs;  // !interpolate: cols as runs
};

// The output pixel (y, x) of a view, undone step by step: shift, rotation, flips, then the
// resampled pixel's source samples. Rows and columns stay separable (rotation by 90 swaps
// them), so each output row needs one row sample and a per-column table shared by all rows.
ViewPlan PlanView(const View& view, int64_t w, int64_t oh, int64_t ow, Fill fill) {
  ViewPlan plan;
  const double windowHeight = static_cast<double>(view.cropHeight) / view.zoom;
  const double windowWidth = static_cast<double>(view.cropWidth) / view.zoom;
  const double windowTop = (static_cast<double>(view.cropHeight) - windowHeight) / 2;
  const double windowLeft = (static_cast<double>(view.cropWidth) - windowWidth) / 2;
  const bool exact = windowHeight == static_cast<double>(oh) && windowWidth == static_cast<double>(ow) &&
                     std::floor(windowTop) == windowTop && std::floor(windowLeft) == windowLeft;
  plan.interpolate = !exact;
  plan.transposed = view.quarterTurns % 2 == 1;
  // The resampled image is oh x ow (rotation by 90 needs a square output).
  const std::vector<Sample> resampledRows =
      AxisSamples(view.cropTop, view.cropHeight, windowTop, windowHeight, oh, w, fill, exact);
  const std::vector<Sample> resampledCols =
      AxisSamples(view.cropLeft, view.cropWidth, windowLeft, windowWidth, ow, 1, fill, exact);
  const Sample none{-1, -1, 0};
  // Index a of the resampled rows / b of its columns that output row py or column px shows.
  auto resampledRow = [&](int64_t a) { return resampledRows[static_cast<size_t>(view.vflip ? oh - 1 - a : a)]; };
  auto resampledCol = [&](int64_t b) { return resampledCols[static_cast<size_t>(view.flip ? ow - 1 - b : b)]; };
  plan.rows.resize(static_cast<size_t>(oh));
  for (int64_t y = 0; y < oh; ++y) {
    const int64_t py = SourceIndex(y - view.dy, oh, fill);
    Sample& s = plan.rows[static_cast<size_t>(y)];
    if (py < 0) {
      s = none;
    } else if (view.quarterTurns == 0) {
      s = resampledRow(py);
    } else if (view.quarterTurns == 2) {
      s = resampledRow(oh - 1 - py);
    } else if (view.quarterTurns == 1) {  // out[y][x] = in[x][n - 1 - y]
      s = resampledCol(ow - 1 - py);
    } else {  // 270: out[y][x] = in[n - 1 - x][y]
      s = resampledCol(py);
    }
  }
  plan.cols.resize(static_cast<size_t>(ow));
  for (int64_t x = 0; x < ow; ++x) {
    const int64_t px = SourceIndex(x - view.dx, ow, fill);
    Sample& s = plan.cols[static_cast<size_t>(x)];
    if (px < 0) {
      s = none;
    } else if (view.quarterTurns == 0) {
      s = resampledCol(px);
    } else if (view.quarterTurns == 2) {
      s = resampledCol(ow - 1 - px);
    } else if (view.quarterTurns == 1) {
      s = resampledRow(px);
    } else {
      s = resampledRow(oh - 1 - px);
    }
  }
  if (plan.interpolate) return plan;
  // Copies: consecutive columns whose source offsets move by one pixel (a column: w).
  const int64_t unit = plan.transposed ? w : 1;
  int64_t x = 0;
  while (x < ow) {
    const int64_t src = plan.cols[static_cast<size_t>(x)].lo;
    Run run{x, 1, src, 1};
    auto at = [&](int64_t i) { return plan.cols[static_cast<size_t>(i)].lo; };
    if (src < 0) {
      while (x + run.length < ow && at(x + run.length) < 0) ++run.length;
    } else if (x + 1 < ow && at(x + 1) >= 0 && (at(x + 1) - src == unit || at(x + 1) - src == -unit)) {
      run.step = at(x + 1) - src;
      while (x + run.length < ow && at(x + run.length) >= 0 && at(x + run.length) == src + run.step * run.length) {
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
  size_t oh, ow;  // output height and width
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
  pre.rowScale.resize(job.ow * job.c);
  pre.rowOffset.resize(job.ow * job.c);
  for (size_t j = 0; j < job.ow * job.c; ++j) {
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

// A run along a source column (a view rotated by 90 or 270): `step` pixels apart.
template <typename T>
void WriteStrided(const T* in, float* out, int64_t count, int64_t step, size_t c, const Preprocess& pre) {
  const float* scale = pre.rowScale.data();
  const float* offset = pre.rowOffset.data();
  const size_t* channel = pre.channel.data();
  for (int64_t p = 0; p < count; ++p) {
    const T* s = in + step * p * static_cast<int64_t>(c);
    for (size_t k = 0; k < c; ++k) out[p * c + k] = scale[k] * static_cast<float>(s[channel[k]]) + offset[k];
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
    } else if (run.step != 1 && run.step != -1) {
      WriteStrided(in + run.src * c, o, run.length, run.step, c, pre);
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

// One output row of a resampled view: per pixel, bilinear between the four neighbours
// (columns first, then rows: TensorFlow's order), then the preprocessing.
template <typename T, int kChannels, bool kTransposed>
void InterpolateRow(const T* image, float* out, const Sample& rowSample, const std::vector<Sample>& cols,
                    size_t dynamicChannels, const Preprocess& pre, float cval) {
  const size_t c = kChannels > 0 ? static_cast<size_t>(kChannels) : dynamicChannels;
  const float* scale = pre.rowScale.data();
  const float* offset = pre.rowOffset.data();
  const size_t* channel = pre.channel.data();
  const size_t width = cols.size();
  for (size_t x = 0; x < width; ++x) {
    const Sample& r = kTransposed ? cols[x] : rowSample;  // the source row offsets
    const Sample& q = kTransposed ? rowSample : cols[x];  // the source column offsets
    float* o = out + x * c;
    if (r.lo < 0 || q.lo < 0) {
      std::fill(o, o + c, cval);
      continue;
    }
    const T* p00 = image + (r.lo + q.lo) * static_cast<int64_t>(c);
    const T* p01 = image + (r.lo + q.hi) * static_cast<int64_t>(c);
    const T* p10 = image + (r.hi + q.lo) * static_cast<int64_t>(c);
    const T* p11 = image + (r.hi + q.hi) * static_cast<int64_t>(c);
    for (size_t k = 0; k < c; ++k) {
      const size_t ch = channel[k];
      const float top =
          static_cast<float>(p00[ch]) + (static_cast<float>(p01[ch]) - static_cast<float>(p00[ch])) * q.weight;
      const float bottom =
          static_cast<float>(p10[ch]) + (static_cast<float>(p11[ch]) - static_cast<float>(p10[ch])) * q.weight;
      const float value = top + (bottom - top) * r.weight;
      o[k] = scale[k] * value + offset[k];
    }
  }
}

template <typename T, int kChannels>
void RunAugment(const AugmentJob& job) {
  const T* images = static_cast<const T*>(job.images);
  const size_t imageElems = job.h * job.w * job.c;
  const size_t outRowElems = job.ow * job.c;
  const size_t outImageElems = job.oh * outRowElems;
  std::vector<ViewPlan> plans;
  plans.reserve(job.views.size());
  for (const View& v : job.views) {
    plans.push_back(
        PlanView(v, static_cast<int64_t>(job.w), static_cast<int64_t>(job.oh), static_cast<int64_t>(job.ow), job.fill));
  }
  const size_t views = job.views.size();
  const Preprocess pre = MakePreprocess(job);
  // A copy view's row: runs of source pixels (the path flips and shifts always took).
  auto copyRow = [&](const ViewPlan& plan, const T* source, float* out, size_t y) {
    const int64_t lo = plan.rows[y].lo;
    if (lo < 0) {
      std::fill(out, out + outRowElems, job.cval);
    } else {
      WriteRow<T, kChannels>(source + static_cast<size_t>(lo) * job.c, out, plan.runs, job.c, pre, job.cval);
    }
  };
  auto interpolateRow = [&](const ViewPlan& plan, const T* source, float* out, size_t y) {
    const Sample& row = plan.rows[y];
    if (plan.transposed) {
      InterpolateRow<T, kChannels, true>(source, out, row, plan.cols, job.c, pre, job.cval);
    } else if (row.lo < 0) {
      std::fill(out, out + outRowElems, job.cval);
    } else {
      InterpolateRow<T, kChannels, false>(source, out, row, plan.cols, job.c, pre, job.cval);
    }
  };
  auto writeRow = [&](size_t view, size_t image, size_t y) {
    float* out = job.out + ((view * job.n + image) * job.oh + y) * outRowElems;
    const ViewPlan& plan = plans[view];
    const T* source = images + image * imageElems;
    if (plan.interpolate) {
      interpolateRow(plan, source, out, y);
    } else {
      copyRow(plan, source, out, y);
    }
  };
  const unsigned threads = ThreadsFor(job.n * views * outImageElems, job.threads);
  if (job.n >= 4 * static_cast<size_t>(threads)) {
    // Image-major: every view of an image is written while that image is in cache,
    // so the input is read from memory once however many views there are.
    ParallelFor(job.n, threads, [&](size_t begin, size_t end) {
      for (size_t image = begin; image < end; ++image) {
        const T* source = images + image * imageElems;
        for (size_t view = 0; view < views; ++view) {
          const ViewPlan& plan = plans[view];
          float* out = job.out + (view * job.n + image) * outImageElems;
          if (plan.interpolate) {
            for (size_t y = 0; y < job.oh; ++y) interpolateRow(plan, source, out + y * outRowElems, y);
          } else {
            for (size_t y = 0; y < job.oh; ++y) copyRow(plan, source, out + y * outRowElems, y);
          }
        }
      }
    });
  } else {
    // Few large images: split rows instead, so every thread has work.
    ParallelFor(views * job.n * job.oh, threads, [&](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r) writeRow(r / (job.oh * job.n), (r / job.oh) % job.n, r % job.oh);
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
  if (info.Length() != 15) throw Napi::TypeError::New(env, "native: augment expects 15 arguments");
  AugmentJob job;
  const int64_t maxDim = int64_t{1} << 40;
  job.n = static_cast<size_t>(IntegerArg(info[1], 0, maxDim, "n"));
  job.h = static_cast<size_t>(IntegerArg(info[2], 1, maxDim, "h"));
  job.w = static_cast<size_t>(IntegerArg(info[3], 1, maxDim, "w"));
  job.c = static_cast<size_t>(IntegerArg(info[4], 1, maxDim, "c"));
  job.oh = static_cast<size_t>(IntegerArg(info[5], 1, maxDim, "outHeight"));
  job.ow = static_cast<size_t>(IntegerArg(info[6], 1, maxDim, "outWidth"));
  size_t inputElems, outputImageElems;
  if (!CheckedProduct({job.n, job.h, job.w, job.c}, &inputElems) ||
      !CheckedProduct({job.oh, job.ow, job.c}, &outputImageElems)) {
    throw Napi::RangeError::New(env, "native: shape overflows");
  }

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

  auto views = TypedArrayArg<double>(info[7], napi_float64_array, "views");
  if (views.length == 0 || views.length % kViewFields != 0)
    throw Napi::RangeError::New(env, "native: views must hold records of 10 numbers");
  const int64_t h = static_cast<int64_t>(job.h), w = static_cast<int64_t>(job.w);
  auto integer = [&](double value, int64_t lo, int64_t hi) {
    if (!(value >= static_cast<double>(lo) && value <= static_cast<double>(hi)) || std::floor(value) != value)
      throw Napi::RangeError::New(env, "native: a view field is out of range");
    return static_cast<int64_t>(value);
  };
  const int64_t maxShift = (int64_t{1} << 31) - 1;
  for (size_t v = 0; v < views.length; v += kViewFields) {
    const double* f = views.data + v;
    View view;
    view.flip = integer(f[0], 0, 1) == 1;
    view.vflip = integer(f[1], 0, 1) == 1;
    view.quarterTurns = static_cast<int>(integer(f[2], 0, 3));
    view.dx = integer(f[3], -maxShift, maxShift);
    view.dy = integer(f[4], -maxShift, maxShift);
    // The crop must lie inside the source: every sample is clamped to it.
    view.cropTop = integer(f[5], 0, h - 1);
    view.cropLeft = integer(f[6], 0, w - 1);
    view.cropHeight = integer(f[7], 1, h - view.cropTop);
    view.cropWidth = integer(f[8], 1, w - view.cropLeft);
    view.zoom = f[9];
    if (!(view.zoom >= 1e-3 && view.zoom <= 1e3)) throw Napi::RangeError::New(env, "native: zoom is out of range");
    if (view.quarterTurns % 2 == 1 && job.oh != job.ow)
      throw Napi::RangeError::New(env, "native: rotation by 90 or 270 needs a square output");
    job.views.push_back(view);
  }
  job.fill = static_cast<Fill>(IntegerArg(info[8], 0, 3, "fill"));
  job.cval = static_cast<float>(NumberArg(info[9], "cval"));
  auto scale = TypedArrayArg<float>(info[10], napi_float32_array, "scale");
  auto offset = TypedArrayArg<float>(info[11], napi_float32_array, "offset");
  if (scale.length != job.c || offset.length != job.c)
    throw Napi::RangeError::New(env, "native: scale and offset need one value per channel");
  job.scale.assign(scale.data, scale.data + scale.length);
  job.offset.assign(offset.data, offset.data + offset.length);
  if (!info[12].IsBoolean()) throw Napi::TypeError::New(env, "native: reverseChannels must be a boolean");
  job.reverseChannels = info[12].As<Napi::Boolean>().Value();

  size_t outElems;
  if (!CheckedProduct({job.views.size(), job.n, outputImageElems}, &outElems) || outElems > SIZE_MAX / sizeof(float)) {
    throw Napi::RangeError::New(env, "native: output size overflows");
  }
  auto out = TypedArrayArg<float>(info[13], napi_float32_array, "out");
  if (out.length != outElems)
    throw Napi::RangeError::New(env, "native: out length does not match views * n * outHeight * outWidth * c");
  if (Overlaps(out.data, out.length * sizeof(float), job.images, imageBytes)) {
    throw Napi::RangeError::New(env, "native: out overlaps images");
  }
  job.out = out.data;
  job.threads = ThreadsArg(info[14]);
  return job;
}

class AugmentWorker : public PromiseWorker {
 public:
  AugmentWorker(Napi::Env env, AugmentJob job, const Napi::CallbackInfo& info)
      : PromiseWorker(env, "tta:augment", {info[0], info[13]}), job_(std::move(job)) {}

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
