// NHWC 2-D pooling for the TensorFlow.js backend, with the cpu backend's semantics:
// max ignores NaN and padding, avg divides by the number of in-bounds pixels, the
// max gradient goes to the first maximum of each window, the avg gradient is spread
// with weight 1 / (filterH * filterW).
#pragma once

#include <napi.h>

namespace tta {

// dims = Int32Array [n, h, w, c, filterH, filterW, strideH, strideW, padTop, padLeft, outH, outW]
// JS: pool2d(x, kind (0 max, 1 avg), dims, out, threads)
Napi::Value Pool2dJs(const Napi::CallbackInfo& info);
// JS: maxPoolGrad(dy, x, dims, dx, threads)
Napi::Value MaxPoolGradJs(const Napi::CallbackInfo& info);
// JS: avgPoolGrad(dy, dims, dx, threads)
Napi::Value AvgPoolGradJs(const Napi::CallbackInfo& info);

}  // namespace tta
