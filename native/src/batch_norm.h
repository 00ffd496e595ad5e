// FusedBatchNorm for the TensorFlow.js backend: out = offset + (x - mean) * scale / sqrt(variance + eps)
// with per-channel parameters along the innermost axis.
#pragma once

#include <napi.h>

namespace tta {

// JS: batchNorm(x, mean, variance, offset | null, scale | null, epsilon, channels, out, threads).
// Each parameter holds 1 or `channels` values; x's length is a multiple of `channels`.
Napi::Value BatchNormJs(const Napi::CallbackInfo& info);

}  // namespace tta
