// A convolution block for inference in one kernel: act(conv(x) + bias), then optionally the
// inference batch norm (a per-channel affine map) and a max pooling, as Keras' Conv2D,
// BatchNormalization and MaxPooling2D layers compute them one after the other. Run a few
// images at a time, so that each convolution output is normalised and pooled while it is still
// in cache: unfused, a 128-image batch of the reference CNN's first block writes and reads
// 16 MB activations three times. Same bits as the three kernels run one by one: the convolution
// runs on the algorithm conv2d would pick (Winograd's where it applies, whose tiles do not depend
// on the chunk they are in).
#pragma once

#include <napi.h>

namespace tta {

// JS: convBlock(x, filter, bias | null, activation, convDims, mean | null, variance | null,
//               offset | null, scale | null, epsilon, poolDims | null, out, threads)
// convDims as conv2d's; mean and variance together or neither (each 1 or outC values, as
// batchNorm's); poolDims as pool2d's, its input being the convolution's output. Returns whether
// the convolution ran as Winograd's F(4x4, 3x3) (WinogradEnabled and WinogradApplies).
Napi::Value ConvBlockJs(const Napi::CallbackInfo& info);

}  // namespace tta
