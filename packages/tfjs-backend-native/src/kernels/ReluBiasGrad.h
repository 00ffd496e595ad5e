// The backward pass of a fused bias + relu epilogue (FusedConv2D, _FusedMatMul) in one pass:
// the gradient through the relu, taken from the layer's output as tfjs does, and the bias
// gradient (its sum over every row), channels innermost.
#pragma once

#include <napi.h>

namespace tta {

// JS: reluBiasGrad(dy, y, channels, dyOut, dBias, threads): dyOut = dy * step(y) (step(NaN)
// = NaN, as in tfjs), dBias[c] = sum of dyOut over the rows.
Napi::Value ReluBiasGradJs(const Napi::CallbackInfo& info);

}  // namespace tta
