// A convolution block for inference in one kernel: act(conv(x) + bias), then optionally the
// inference batch norm (a per-channel affine map) and a max pooling, as Keras' Conv2D,
// BatchNormalization and MaxPooling2D layers compute them one after the other. Run a few
// images at a time, so that each convolution output is normalised and pooled while it is still
// in cache: unfused, a 128-image batch of the reference CNN's first block writes and reads
// 16 MB activations three times. Same bits as the three kernels run one by one, unless the
// convolution runs as Winograd's F(4x4, 3x3) (Winograd.h): then within rounding of them.
#pragma once

#include <napi.h>

namespace tta {

// JS: convBlock(x, filter, bias | null, activation, convDims, mean | null, variance | null,
//               offset | null, scale | null, epsilon, poolDims | null, winograd, out, threads)
// convDims as conv2d's; mean and variance together or neither (each 1 or outC values, as
// batchNorm's); poolDims as pool2d's, its input being the convolution's output; winograd: use
// F(4x4, 3x3) where WinogradApplies. Returns whether the convolution ran as Winograd's.
Napi::Value ConvBlockJs(const Napi::CallbackInfo& info);

}  // namespace tta
