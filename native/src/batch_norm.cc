#include "batch_norm.h"

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

}  // namespace tta
