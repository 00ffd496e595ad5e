#include "ReluBiasGrad.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "common.h"

namespace tta {

namespace {

// o = g * step(out), sum += o. dy * step(y), not a select: 0 * inf = NaN and step(NaN) = NaN
// stay as in tfjs. Step as bit masks so that GCC vectorises it on baseline x86-64.
void ReluGradRow(const float* __restrict g, const float* __restrict out, float* __restrict o, float* __restrict sum,
                 size_t n) {
  const float one = 1.0f, nan = std::numeric_limits<float>::quiet_NaN();
  uint32_t oneBits, nanBits;
  std::memcpy(&oneBits, &one, 4);
  std::memcpy(&nanBits, &nan, 4);
  for (size_t c = 0; c < n; ++c) {
    const uint32_t bits = ((out[c] > 0.0f ? ~0u : 0u) & oneBits) | ((out[c] != out[c] ? ~0u : 0u) & nanBits);
    float step;
    std::memcpy(&step, &bits, 4);
    const float v = g[c] * step;
    o[c] = v;
    sum[c] += v;
  }
}

}  // namespace

Napi::Value ReluBiasGradJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 6) throw Napi::TypeError::New(env, "native: reluBiasGrad expects 6 arguments");
  auto dy = TypedArrayArg<float>(info[0], napi_float32_array, "dy");
  auto y = TypedArrayArg<float>(info[1], napi_float32_array, "y");
  const size_t channels = static_cast<size_t>(IntegerArg(info[2], 1, INT32_MAX, "channels"));
  auto dyOut = TypedArrayArg<float>(info[3], napi_float32_array, "dyOut");
  auto dBias = TypedArrayArg<float>(info[4], napi_float32_array, "dBias");
  const unsigned threads = ThreadsArg(info[5]);
  if (dy.length % channels != 0 || y.length != dy.length || dyOut.length != dy.length || dBias.length != channels) {
    throw Napi::RangeError::New(env, "native: reluBiasGrad dy/y/dyOut/dBias lengths do not match channels");
  }
  if (OverlapsAny(dyOut, {&dy, &y, &dBias}) || OverlapsAny(dBias, {&dy, &y})) {
    throw Napi::RangeError::New(env, "native: reluBiasGrad outputs overlap other arguments");
  }
  const size_t rows = dy.length / channels;
  const std::vector<double> total =
      ChannelSums(rows, channels, threads, [&](size_t r0, size_t r1, float* __restrict sum, float*) {
        for (size_t r = r0; r < r1; ++r)
          ReluGradRow(dy.data + r * channels, y.data + r * channels, dyOut.data + r * channels, sum, channels);
      });
  for (size_t c = 0; c < channels; ++c) dBias.data[c] = static_cast<float>(total[c]);
  return env.Undefined();
}

}  // namespace tta
