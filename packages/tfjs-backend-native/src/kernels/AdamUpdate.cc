#include "AdamUpdate.h"

#include <cmath>

#include "common.h"

namespace tta {

Napi::Value AdamUpdateJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 14) throw Napi::TypeError::New(env, "native: adamUpdate expects 14 arguments");
  auto value = TypedArrayArg<float>(info[0], napi_float32_array, "value");
  auto m = TypedArrayArg<float>(info[1], napi_float32_array, "m");
  auto v = TypedArrayArg<float>(info[2], napi_float32_array, "v");
  auto g = TypedArrayArg<float>(info[3], napi_float32_array, "gradient");
  // The scalars as tfjs holds them: float32.
  const float lr = static_cast<float>(NumberArg(info[4], "learningRate"));
  const float b1 = static_cast<float>(NumberArg(info[5], "beta1"));
  const float b2 = static_cast<float>(NumberArg(info[6], "beta2"));
  const float eps = static_cast<float>(NumberArg(info[7], "epsilon"));
  const float c1 = static_cast<float>(NumberArg(info[8], "oneMinusAccBeta1"));
  const float c2 = static_cast<float>(NumberArg(info[9], "oneMinusAccBeta2"));
  const float oneMinusB1 = static_cast<float>(1.0 - NumberArg(info[5], "beta1"));
  const float oneMinusB2 = static_cast<float>(1.0 - NumberArg(info[6], "beta2"));
  auto outValue = TypedArrayArg<float>(info[10], napi_float32_array, "outValue");
  auto outM = TypedArrayArg<float>(info[11], napi_float32_array, "outM");
  auto outV = TypedArrayArg<float>(info[12], napi_float32_array, "outV");
  const unsigned threads = ThreadsArg(info[13]);
  const size_t n = value.length;
  if (m.length != n || v.length != n || g.length != n || outValue.length != n || outM.length != n || outV.length != n) {
    throw Napi::RangeError::New(env, "native: adamUpdate arrays must all have value's length");
  }
  const std::initializer_list<const Span<float>*> all = {&value, &m, &v, &g, &outValue, &outM, &outV};
  if (OverlapsAny(outValue, all) || OverlapsAny(outM, all) || OverlapsAny(outV, all)) {
    throw Napi::RangeError::New(env, "native: adamUpdate outputs overlap other arguments");
  }
  const float negativeLr = -lr;
  ParallelFor(n, ThreadsFor(n, threads), [&](size_t begin, size_t end) {
    const float* __restrict pv = value.data;
    const float* __restrict pm = m.data;
    const float* __restrict ps = v.data;
    const float* __restrict pg = g.data;
    float* __restrict ov = outValue.data;
    float* __restrict om = outM.data;
    float* __restrict os = outV.data;
    for (size_t i = begin; i < end; ++i) {
      const float newM = pm[i] * b1 + pg[i] * oneMinusB1;
      const float newV = ps[i] * b2 + (pg[i] * pg[i]) * oneMinusB2;
      om[i] = newM;
      os[i] = newV;
      ov[i] = (newM / c1) / (std::sqrt(newV / c2) + eps) * negativeLr + pv[i];
    }
  });
  return env.Undefined();
}

}  // namespace tta
