#include "batch_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

namespace tta {

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
  const unsigned threads = static_cast<unsigned>(IntegerArg(info[8], 1, 1024, "threads"));
  auto check = [&](const Span<float>& s, const char* name) {
    if (s.data != nullptr && s.length != 1 && s.length != channels) {
      throw Napi::RangeError::New(env, std::string("native: batchNorm ") + name + " must hold 1 or `channels` values");
    }
  };
  check(mean, "mean");
  check(variance, "variance");
  check(offset, "offset");
  check(scale, "scale");
  if (x.length % channels != 0 || out.length != x.length) {
    throw Napi::RangeError::New(env, "native: batchNorm x/out lengths do not match channels");
  }
  auto at = [](const Span<float>& s, size_t c, float fallback) {
    if (s.data == nullptr) return fallback;
    return s.length == 1 ? s.data[0] : s.data[c];
  };
  std::vector<float> shift(channels), factor(channels), center(channels);
  for (size_t c = 0; c < channels; ++c) {
    factor[c] = static_cast<float>(at(scale, c, 1.0f) / std::sqrt(static_cast<double>(at(variance, c, 0.0f)) + epsilon));
    shift[c] = at(offset, c, 0.0f);
    center[c] = at(mean, c, 0.0f);
  }
  const size_t rows = x.length / channels;
  ParallelFor(rows, ThreadsFor(x.length, threads), [&](size_t begin, size_t end) {
    const float* __restrict f = factor.data();
    const float* __restrict s = shift.data();
    const float* __restrict m = center.data();
    for (size_t r = begin; r < end; ++r) {
      const float* __restrict in = x.data + r * channels;
      float* __restrict o = out.data + r * channels;
      for (size_t c = 0; c < channels; ++c) o[c] = s[c] + (in[c] - m[c]) * f[c];
    }
  });
  return env.Undefined();
}

Napi::Value BatchNormGradJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 10) throw Napi::TypeError::New(env, "native: batchNormGrad expects 10 arguments");
  auto x = TypedArrayArg<float>(info[0], napi_float32_array, "x");
  auto dy = TypedArrayArg<float>(info[1], napi_float32_array, "dy");
  auto mean = TypedArrayArg<float>(info[2], napi_float32_array, "mean");
  auto variance = TypedArrayArg<float>(info[3], napi_float32_array, "variance");
  Span<float> scale;
  if (!info[4].IsNull()) scale = TypedArrayArg<float>(info[4], napi_float32_array, "scale");
  const double epsilon = NumberArg(info[5], "epsilon");
  const size_t channels = static_cast<size_t>(IntegerArg(info[6], 1, INT32_MAX, "channels"));
  auto dx = TypedArrayArg<float>(info[7], napi_float32_array, "dx");
  auto sums = TypedArrayArg<float>(info[8], napi_float32_array, "sums");
  const unsigned threads = static_cast<unsigned>(IntegerArg(info[9], 1, 1024, "threads"));
  if (mean.length != channels || variance.length != channels || (scale.data != nullptr && scale.length != channels)) {
    throw Napi::RangeError::New(env, "native: batchNormGrad mean, variance and scale must hold `channels` values");
  }
  if (x.length % channels != 0 || dy.length != x.length || dx.length != x.length || sums.length != 2 * channels) {
    throw Napi::RangeError::New(env, "native: batchNormGrad x/dy/dx/sums lengths do not match channels");
  }
  if (Overlaps(dx.data, dx.length * 4, x.data, x.length * 4) || Overlaps(dx.data, dx.length * 4, dy.data, dy.length * 4) ||
      Overlaps(sums.data, sums.length * 4, x.data, x.length * 4) || Overlaps(sums.data, sums.length * 4, dy.data, dy.length * 4) ||
      Overlaps(sums.data, sums.length * 4, dx.data, dx.length * 4)) {
    throw Napi::RangeError::New(env, "native: batchNormGrad outputs overlap its inputs");
  }
  std::vector<float> factor(channels);
  for (size_t c = 0; c < channels; ++c) {
    const double s = scale.data == nullptr ? 1.0 : scale.data[c];
    factor[c] = static_cast<float>(s / std::sqrt(static_cast<double>(variance.data[c]) + epsilon));
  }
  const size_t rows = x.length / channels;
  // Each slot sums its own rows in double (sum dy, sum (x - mean) dy per channel), so the
  // result does not depend on how the rows were split.
  const unsigned slots = std::max(1u, std::min<unsigned>(ThreadsFor(x.length, threads), static_cast<unsigned>(std::min<size_t>(rows, 1024))));
  std::vector<std::vector<double>> partial(slots);
  ParallelFor(slots, slots, [&](size_t s0, size_t s1) {
    for (size_t s = s0; s < s1; ++s) {
      std::vector<double>& acc = partial[s];
      acc.assign(2 * channels, 0.0);
      // Float accumulation over a block of rows at a time keeps the loop vectorisable;
      // blocks are short enough for float to lose nothing that matters before the double sum.
      std::vector<float> blockDy(channels), blockDyXmu(channels);
      const size_t first = rows * s / slots, last = rows * (s + 1) / slots;
      const float* __restrict f = factor.data();
      const float* __restrict m = mean.data;
      for (size_t r0 = first; r0 < last; r0 += 64) {
        const size_t r1 = std::min(last, r0 + 64);
        std::fill(blockDy.begin(), blockDy.end(), 0.0f);
        std::fill(blockDyXmu.begin(), blockDyXmu.end(), 0.0f);
        float* __restrict bd = blockDy.data();
        float* __restrict bx = blockDyXmu.data();
        for (size_t r = r0; r < r1; ++r) {
          const float* __restrict in = x.data + r * channels;
          const float* __restrict g = dy.data + r * channels;
          float* __restrict o = dx.data + r * channels;
          for (size_t c = 0; c < channels; ++c) {
            const float gc = g[c];
            bd[c] += gc;
            bx[c] += (in[c] - m[c]) * gc;
            o[c] = gc * f[c];
          }
        }
        for (size_t c = 0; c < channels; ++c) {
          acc[c] += bd[c];
          acc[channels + c] += bx[c];
        }
      }
    }
  });
  for (size_t i = 0; i < 2 * channels; ++i) {
    double total = 0.0;
    for (const auto& p : partial) total += p[i];
    sums.data[i] = static_cast<float>(total);
  }
  return env.Undefined();
}

}  // namespace tta
