// The Adam update of one variable in one pass (tfjs' AdamOptimizer is about twelve
// full-size kernels per variable), in tfjs' order of float32 operations.
#pragma once

#include <napi.h>

namespace tta {

// JS: adamUpdate(value, m, v, gradient, learningRate, beta1, beta2, epsilon, oneMinusAccBeta1,
//                oneMinusAccBeta2, outValue, outM, outV, threads):
// m' = m b1 + g (1 - b1), v' = v b2 + g^2 (1 - b2),
// value' = (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps) * -lr + value.
Napi::Value AdamUpdateJs(const Napi::CallbackInfo& info);

}  // namespace tta
