#include "FusedBatchNorm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

namespace tta {

ChannelAffine BatchNormAffine(Napi::Env env, const Span<float>& mean, const Span<float>& variance,
                              const Span<float>& offset, const Span<float>& scale, double epsilon, size_t channels) {
  auto check = [&](const Span<float>& s, const char* name) {
    if (s.data != nullptr && s.length != 1 && s.length != channels) {
      throw Napi::RangeError::New(env, std::string("native: batchNorm ") + name + " must hold 1 or `channels` values");
    }
  };
  check(mean, "mean");
  check(variance, "variance");
  check(offset, "offset");
  check(scale, "scale");
  auto at = [](const Span<float>& s, size_t c, float fallback) {
    if (s.data == nullptr) return fallback;
    return s.length == 1 ? s.data[0] : s.data[c];
  };
  ChannelAffine a{std::vector<float>(channels), std::vector<float>(channels), std::vector<float>(channels)};
  for (size_t c = 0; c < channels; ++c) {
    a.factor[c] =
        static_cast<float>(at(scale, c, 1.0f) / std::sqrt(static_cast<double>(at(variance, c, 0.0f)) + epsilon));
    a.shift[c] = at(offset, c, 0.0f);
    a.center[c] = at(mean, c, 0.0f);
  }
  return a;
}

TTA_SIMD_CLONES void AffineRows(const ChannelAffine& affine, const float* in, float* out, size_t rows,
                                size_t channels) {
  const float* __restrict f = affine.factor.data();
  const float* __restrict s = affine.shift.data();
  const float* __restrict m = affine.center.data();
  for (size_t r = 0; r < rows; ++r) {
    const float* i = in + r * channels;
    float* o = out + r * channels;
    for (size_t c = 0; c < channels; ++c) o[c] = Affine(i[c], m[c], f[c], s[c]);
  }
}

Napi::Value BatchNormJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 9) throw Napi::TypeError::New(env, "native: batchNorm expects 9 arguments");
  auto x = TypedArrayArg<float>(info[0], napi_float32_array, "x");
  auto mean = TypedArrayArg<float>(info[1], napi_float32_array, "mean");
  auto variance = TypedArrayArg<float>(info[2], napi_float32_array, "variance");
  Span<float> offset, scale;
  if (!info[3].IsNull()) offset = TypedArrayArg<float>(info[3], napi_float32_array, "offset");
  if (!info[4].IsNull()) scale = TypedArrayArg<float>(info[4], napi_float32_array, "scale");
  const double epsilon = NumberArg(info[5], "epsilon");
  const size_t channels = static_cast<size_t>(IntegerArg(info[6], 1, INT32_MAX, "channels"));
  auto out = TypedArrayArg<float>(info[7], napi_float32_array, "out");
  const unsigned threads = ThreadsArg(info[8]);
  if (x.length % channels != 0 || out.length != x.length) {
    throw Napi::RangeError::New(env, "native: batchNorm x/out lengths do not match channels");
  }
  const ChannelAffine affine = BatchNormAffine(env, mean, variance, offset, scale, epsilon, channels);
  const size_t rows = x.length / channels;
  ParallelFor(rows, ThreadsFor(x.length, threads), [&](size_t begin, size_t end) {
    AffineRows(affine, x.data + begin * channels, out.data + begin * channels, end - begin, channels);
  });
  return env.Undefined();
}

namespace {

// An optional per-channel parameter: absent (null), or `channels` float32 values.
Span<float> ChannelArg(const Napi::Value& value, size_t channels, const char* name) {
  Span<float> s;
  if (value.IsNull() || value.IsUndefined()) return s;
  s = TypedArrayArg<float>(value, napi_float32_array, name);
  if (s.length != channels) {
    throw Napi::RangeError::New(value.Env(), std::string("native: ") + name + " must hold `channels` values");
  }
  return s;
}

}  // namespace

Napi::Value BatchNormGradJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 10) throw Napi::TypeError::New(env, "native: batchNormGrad expects 10 arguments");
  auto x = TypedArrayArg<float>(info[0], napi_float32_array, "x");
  auto dy = TypedArrayArg<float>(info[1], napi_float32_array, "dy");
  const size_t channels = static_cast<size_t>(IntegerArg(info[6], 1, INT32_MAX, "channels"));
  auto mean = ChannelArg(info[2], channels, "mean");
  auto variance = ChannelArg(info[3], channels, "variance");
  auto scale = ChannelArg(info[4], channels, "scale");
  const double epsilon = NumberArg(info[5], "epsilon");
  auto dx = TypedArrayArg<float>(info[7], napi_float32_array, "dx");
  auto sums = TypedArrayArg<float>(info[8], napi_float32_array, "sums");
  const unsigned threads = ThreadsArg(info[9]);
  if (mean.data == nullptr || variance.data == nullptr)
    throw Napi::TypeError::New(env, "native: batchNormGrad needs mean and variance");
  if (x.length % channels != 0 || dy.length != x.length || dx.length != x.length || sums.length != 2 * channels) {
    throw Napi::RangeError::New(env, "native: batchNormGrad x/dy/dx/sums lengths do not match channels");
  }
  if (OverlapsAny(dx, {&x, &dy, &sums}) || OverlapsAny(sums, {&x, &dy})) {
    throw Napi::RangeError::New(env, "native: batchNormGrad outputs overlap its inputs");
  }
  std::vector<float> factor(channels);
  for (size_t c = 0; c < channels; ++c) {
    const double s = scale.data == nullptr ? 1.0 : scale.data[c];
    factor[c] = static_cast<float>(s / std::sqrt(static_cast<double>(variance.data[c]) + epsilon));
  }
  const float* __restrict f = factor.data();
  const float* __restrict m = mean.data;
  const std::vector<double> total =
      ChannelSums(x.length / channels, channels, threads,
                  [&](size_t r0, size_t r1, float* __restrict sumDy, float* __restrict sumDyXmu) {
                    for (size_t r = r0; r < r1; ++r) {
                      const float* __restrict in = x.data + r * channels;
                      const float* __restrict g = dy.data + r * channels;
                      float* __restrict o = dx.data + r * channels;
                      for (size_t c = 0; c < channels; ++c) {
                        const float gc = g[c];
                        sumDy[c] += gc;
                        sumDyXmu[c] += (in[c] - m[c]) * gc;
                        o[c] = gc * f[c];
                      }
                    }
                  });
  for (size_t i = 0; i < 2 * channels; ++i) sums.data[i] = static_cast<float>(total[i]);
  return env.Undefined();
}

Napi::Value BatchNormTrainingJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 9) throw Napi::TypeError::New(env, "native: batchNormTraining expects 9 arguments");
  auto x = TypedArrayArg<float>(info[0], napi_float32_array, "x");
  const size_t channels = static_cast<size_t>(IntegerArg(info[4], 1, INT32_MAX, "channels"));
  auto scale = ChannelArg(info[1], channels, "scale");
  auto offset = ChannelArg(info[2], channels, "offset");
  const double epsilon = NumberArg(info[3], "epsilon");
  auto out = TypedArrayArg<float>(info[5], napi_float32_array, "out");
  auto mean = ChannelArg(info[6], channels, "mean");
  auto variance = ChannelArg(info[7], channels, "variance");
  const unsigned threads = ThreadsArg(info[8]);
  if (mean.data == nullptr || variance.data == nullptr)
    throw Napi::TypeError::New(env, "native: batchNormTraining needs mean and variance outputs");
  if (x.length == 0 || x.length % channels != 0 || out.length != x.length) {
    throw Napi::RangeError::New(env, "native: batchNormTraining x/out lengths do not match channels");
  }
  if (OverlapsAny(out, {&x, &scale, &offset, &mean, &variance}) ||
      OverlapsAny(mean, {&x, &scale, &offset, &variance}) || OverlapsAny(variance, {&x, &scale, &offset})) {
    throw Napi::RangeError::New(env, "native: batchNormTraining outputs overlap other arguments");
  }
  const size_t rows = x.length / channels;
  // Sums of (x - first row) and its square: the shift keeps the variance exact when the
  // mean is large against the spread.
  std::vector<float> shift(x.data, x.data + channels);
  const float* __restrict sh = shift.data();
  const std::vector<double> total =
      ChannelSums(rows, channels, threads, [&](size_t r0, size_t r1, float* __restrict sum, float* __restrict sumSq) {
        for (size_t r = r0; r < r1; ++r) {
          const float* __restrict in = x.data + r * channels;
          for (size_t c = 0; c < channels; ++c) {
            const float d = in[c] - sh[c];
            sum[c] += d;
            sumSq[c] += d * d;
          }
        }
      });
  std::vector<float> factor(channels), shifted(channels);
  for (size_t c = 0; c < channels; ++c) {
    const double m = total[c] / static_cast<double>(rows);
    const double v = std::max(0.0, total[channels + c] / static_cast<double>(rows) - m * m);
    mean.data[c] = static_cast<float>(shift[c] + m);
    variance.data[c] = static_cast<float>(v);
    const double f =
        (scale.data == nullptr ? 1.0 : scale.data[c]) / std::sqrt(static_cast<double>(variance.data[c]) + epsilon);
    factor[c] = static_cast<float>(f);
    shifted[c] = offset.data == nullptr ? 0.0f : offset.data[c];
  }
  // (x - mean) * factor + offset, not x * factor + (offset - mean * factor): no cancellation
  // when the mean is large against the spread.
  ParallelFor(rows, ThreadsFor(x.length, threads), [&](size_t begin, size_t end) {
    const float* __restrict f = factor.data();
    const float* __restrict b = shifted.data();
    const float* __restrict m = mean.data;
    for (size_t r = begin; r < end; ++r) {
      const float* __restrict in = x.data + r * channels;
      float* __restrict o = out.data + r * channels;
      for (size_t c = 0; c < channels; ++c) o[c] = (in[c] - m[c]) * f[c] + b[c];
    }
  });
  return env.Undefined();
}

Napi::Value BatchNormTrainingGradJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 13) throw Napi::TypeError::New(env, "native: batchNormTrainingGrad expects 13 arguments");
  auto x = TypedArrayArg<float>(info[0], napi_float32_array, "x");
  auto dy = TypedArrayArg<float>(info[1], napi_float32_array, "dy");
  const size_t channels = static_cast<size_t>(IntegerArg(info[8], 1, INT32_MAX, "channels"));
  auto scale = ChannelArg(info[2], channels, "scale");
  auto mean = ChannelArg(info[3], channels, "mean");
  auto variance = ChannelArg(info[4], channels, "variance");
  auto dMean = ChannelArg(info[5], channels, "dMean");
  auto dVariance = ChannelArg(info[6], channels, "dVariance");
  const double epsilon = NumberArg(info[7], "epsilon");
  auto dx = TypedArrayArg<float>(info[9], napi_float32_array, "dx");
  auto dScale = ChannelArg(info[10], channels, "dScale");
  auto dOffset = ChannelArg(info[11], channels, "dOffset");
  const unsigned threads = ThreadsArg(info[12]);
  if (mean.data == nullptr || variance.data == nullptr || dScale.data == nullptr || dOffset.data == nullptr) {
    throw Napi::TypeError::New(env, "native: batchNormTrainingGrad needs mean, variance, dScale and dOffset");
  }
  if (x.length == 0 || x.length % channels != 0 || dy.length != x.length || dx.length != x.length) {
    throw Napi::RangeError::New(env, "native: batchNormTrainingGrad x/dy/dx lengths do not match channels");
  }
  const std::initializer_list<const Span<float>*> inputs = {&x, &dy, &scale, &mean, &variance, &dMean, &dVariance};
  if (OverlapsAny(dx, inputs) || OverlapsAny(dx, {&dScale, &dOffset}) || OverlapsAny(dScale, inputs) ||
      OverlapsAny(dScale, {&dOffset}) || OverlapsAny(dOffset, inputs)) {
    throw Napi::RangeError::New(env, "native: batchNormTrainingGrad outputs overlap other arguments");
  }
  const size_t rows = x.length / channels;
  const float* __restrict m = mean.data;
  const std::vector<double> total = ChannelSums(
      rows, channels, threads, [&](size_t r0, size_t r1, float* __restrict sumDy, float* __restrict sumDyXmu) {
        for (size_t r = r0; r < r1; ++r) {
          const float* __restrict in = x.data + r * channels;
          const float* __restrict g = dy.data + r * channels;
          for (size_t c = 0; c < channels; ++c) {
            sumDy[c] += g[c];
            sumDyXmu[c] += (in[c] - m[c]) * g[c];
          }
        }
      });
  // With r = 1/sqrt(var + eps), the batch statistics differentiated through:
  // dx = scale r (dy - sum(dy) / n - (x - mean) r^2 sum((x - mean) dy) / n)
  //      + dMean / n + 2 dVariance (x - mean) / n.
  // The bracket is subtracted before scaling: with one row (or constant x) it is exactly 0.
  std::vector<float> a(channels), meanDy(channels), q(channels), e(channels), d(channels);
  const double n = static_cast<double>(rows);
  for (size_t c = 0; c < channels; ++c) {
    const double r = 1.0 / std::sqrt(static_cast<double>(variance.data[c]) + epsilon);
    const double s = scale.data == nullptr ? 1.0 : scale.data[c];
    const double sumDy = total[c], sumDyXmu = total[channels + c];
    a[c] = static_cast<float>(s * r);
    meanDy[c] = static_cast<float>(sumDy / n);
    q[c] = static_cast<float>(r * r * sumDyXmu / n);
    e[c] = static_cast<float>(dVariance.data == nullptr ? 0.0 : 2.0 * dVariance.data[c] / n);
    d[c] = static_cast<float>(dMean.data == nullptr ? 0.0 : dMean.data[c] / n);
    dScale.data[c] = static_cast<float>(r * sumDyXmu);
    dOffset.data[c] = static_cast<float>(sumDy);
  }
  ParallelFor(rows, ThreadsFor(x.length, threads), [&](size_t begin, size_t end) {
    const float* __restrict pa = a.data();
    const float* __restrict pm = meanDy.data();
    const float* __restrict pq = q.data();
    const float* __restrict pe = e.data();
    const float* __restrict pd = d.data();
    for (size_t r = begin; r < end; ++r) {
      const float* __restrict in = x.data + r * channels;
      const float* __restrict g = dy.data + r * channels;
      float* __restrict o = dx.data + r * channels;
      for (size_t c = 0; c < channels; ++c) {
        const float xmu = in[c] - m[c];
        o[c] = pa[c] * (g[c] - pm[c] - xmu * pq[c]) + pe[c] * xmu + pd[c];
      }
    }
  });
  return env.Undefined();
}

}  // namespace tta
