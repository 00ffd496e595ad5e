#include "Softmax.h"

#include <cmath>

#include "common.h"

namespace tta {

Napi::Value SoftmaxJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 5) throw Napi::TypeError::New(env, "native: softmax expects 5 arguments");
  auto logits = TypedArrayArg<float>(info[0], napi_float32_array, "logits");
  const size_t rows = static_cast<size_t>(IntegerArg(info[1], 0, INT32_MAX, "rows"));
  const size_t cols = static_cast<size_t>(IntegerArg(info[2], 1, INT32_MAX, "cols"));
  auto out = TypedArrayArg<float>(info[3], napi_float32_array, "out");
  const unsigned threads = ThreadsArg(info[4]);
  size_t size;
  if (!CheckedProduct({rows, cols}, &size) || logits.length != size || out.length != size) {
    throw Napi::RangeError::New(env, "native: softmax lengths do not match rows x cols");
  }
  ParallelFor(rows, ThreadsFor(size * 8, threads), [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) {
      const float* in = logits.data + r * cols;
      float* o = out.data + r * cols;
      float max = in[0];
      for (size_t j = 1; j < cols; ++j) max = (in[j] != in[j] || in[j] > max) ? in[j] : max;
      double sum = 0.0;
      for (size_t j = 0; j < cols; ++j) {
        o[j] = std::exp(in[j] - max);
        sum += o[j];
      }
      for (size_t j = 0; j < cols; ++j) o[j] = static_cast<float>(o[j] / sum);
    }
  });
  return env.Undefined();
}

}  // namespace tta
