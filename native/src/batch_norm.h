// FusedBatchNorm for the TensorFlow.js backend: out = offset + (x - mean) * scale / sqrt(variance + eps)
// with per-channel parameters along the innermost axis.
#pragma once

#include <napi.h>

namespace tta {

// JS: batchNorm(x, mean, variance, offset | null, scale | null, epsilon, channels, out, threads).
// Each parameter holds 1 or `channels` values; x's length is a multiple of `channels`.
Napi::Value BatchNormJs(const Napi::CallbackInfo& info);

// The gradient of FusedBatchNorm (channels innermost, per-channel parameters) in one pass:
// dx = dy * scale / sqrt(variance + eps); sums[c] = sum of dy, sums[channels + c] = sum of
// (x - mean) * dy over every row. The mean, variance, scale and offset gradients follow from
// those sums in O(channels).
// JS: batchNormGrad(x, dy, mean, variance, scale | null, epsilon, channels, dx, sums, threads).
Napi::Value BatchNormGradJs(const Napi::CallbackInfo& info);

}  // namespace tta
