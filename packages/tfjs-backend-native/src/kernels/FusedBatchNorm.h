// FusedBatchNorm for the TensorFlow.js backend: out = offset + (x - mean) * scale / sqrt(variance + eps)
// with per-channel parameters along the innermost axis.
#pragma once

#include <napi.h>

#include <cstddef>
#include <vector>

#include "common.h"

namespace tta {

// Inference batch norm as a per-channel affine map, out = shift + (x - center) * factor, with
// factor = scale / sqrt(variance + eps) rounded once to float: what batchNorm computes for each
// element, so kernels that fuse it into another pass give the same bits.
struct ChannelAffine {
  std::vector<float> center, factor, shift;
};
// One element through the map: the one formula every kernel that applies it uses.
inline float Affine(float x, float center, float factor, float shift) { return shift + (x - center) * factor; }
// rows x channels values (channels innermost) through the map; in may be out.
void AffineRows(const ChannelAffine& affine, const float* in, float* out, size_t rows, size_t channels);
// Each parameter is absent (null data) or holds 1 or `channels` values (else a RangeError).
ChannelAffine BatchNormAffine(Napi::Env env, const Span<float>& mean, const Span<float>& variance,
                              const Span<float>& offset, const Span<float>& scale, double epsilon, size_t channels);

// JS: batchNorm(x, mean, variance, offset | null, scale | null, epsilon, channels, out, threads).
// Each parameter holds 1 or `channels` values; x's length is a multiple of `channels`.
Napi::Value BatchNormJs(const Napi::CallbackInfo& info);

// The gradient of FusedBatchNorm (channels innermost, per-channel parameters) in one pass:
// dx = dy * scale / sqrt(variance + eps); sums[c] = sum of dy, sums[channels + c] = sum of
// (x - mean) * dy over every row. The mean, variance, scale and offset gradients follow from
// those sums in O(channels).
// JS: batchNormGrad(x, dy, mean, variance, scale | null, epsilon, channels, dx, sums, threads).
Napi::Value BatchNormGradJs(const Napi::CallbackInfo& info);

// Training-mode batch norm in one kernel, the statistics taken over every row (channels
// innermost): mean and biased variance per channel, then out = offset + (x - mean) * scale /
// sqrt(variance + eps). What tf.moments followed by tf.batchNorm computes, in two passes over
// x instead of about eight.
// JS: batchNormTraining(x, scale | null, offset | null, epsilon, channels, out, mean, variance, threads).
Napi::Value BatchNormTrainingJs(const Napi::CallbackInfo& info);

// Its gradient, through the batch statistics, in two passes: dx, dScale and dOffset from dy
// and the gradients reaching the mean and variance outputs (null when none).
// JS: batchNormTrainingGrad(x, dy, scale | null, mean, variance, dMean | null, dVariance | null,
//                           epsilon, channels, dx, dScale, dOffset, threads).
Napi::Value BatchNormTrainingGradJs(const Napi::CallbackInfo& info);

}  // namespace tta
