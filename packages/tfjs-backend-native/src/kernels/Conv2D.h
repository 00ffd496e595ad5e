// NHWC 2-D convolution for the TensorFlow.js backend: on oneDNN when the addon is built with it
// and it takes the geometry (onednn.h), else as im2col + GEMM (or a direct kernel for few input
// channels), processed in blocks of whole images so that each block's column buffer stays in
// cache and the blocks run in parallel on the shared pool.
#pragma once

#include <napi.h>

namespace tta {

// Geometry shared by the three convolution entry points (dilation 1).
// dims = Int32Array [n, h, w, c, filterH, filterW, outC, strideH, strideW, padTop, padLeft, outH, outW]
// JS: conv2d(x, filter, bias | null, activation (0 linear, 1 relu, 2 relu6), dims, out, threads)
Napi::Value Conv2dJs(const Napi::CallbackInfo& info);
// JS: conv2dBackpropInput(dy, filter, dims, dx, threads)
Napi::Value Conv2dBackpropInputJs(const Napi::CallbackInfo& info);
// JS: conv2dBackpropFilter(x, dy, dims, dw, threads)
Napi::Value Conv2dBackpropFilterJs(const Napi::CallbackInfo& info);

}  // namespace tta
