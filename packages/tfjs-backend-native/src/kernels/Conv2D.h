// NHWC 2-D convolution for the TensorFlow.js backend: on oneDNN when the addon is built with it
// and it takes the geometry (onednn.h), else as im2col + GEMM (or a direct kernel for few input
// channels), processed in blocks of whole images so that each block's column buffer stays in
// cache and the blocks run in parallel on the shared pool.
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>

namespace tta {

// One convolution's geometry and sizes (checked for overflow when parsed).
struct ConvGeometry {
  size_t n, h, w, c, fh, fw, outC, sh, sw;
  ptrdiff_t padTop, padLeft;
  size_t outH, outW;
  size_t xSize, filterSize, ySize, colWidth, pixelsPerImage;

  // 1x1 kernels with stride 1 and no padding read the input as the column matrix.
  bool Pointwise() const {
    return fh == 1 && fw == 1 && sh == 1 && sw == 1 && padTop == 0 && padLeft == 0 && outH == h && outW == w;
  }
};

// Parses and range-checks an Int32Array dims (below); throws a RangeError naming what is wrong.
ConvGeometry ParseConvGeometry(const Napi::Value& value);

// y = act(conv(x, filter) + bias) for checked geometry and buffers: oneDNN when it takes the
// geometry, else the built-in kernels on up to `threads` threads of the shared pool; threads 0
// runs it on the calling thread alone (oneDNN included), for callers that parallelise themselves;
// those calls share the filter packed for oneDNN while they pass the same non-zero packToken.
void ConvForward(const ConvGeometry& g, const float* x, const float* filter, const float* bias, int activation,
                 float* y, unsigned threads, uint64_t packToken = 0);

// Geometry shared by the three convolution entry points (dilation 1).
// dims = Int32Array [n, h, w, c, filterH, filterW, outC, strideH, strideW, padTop, padLeft, outH, outW]
// JS: conv2d(x, filter, bias | null, activation (0 linear, 1 relu, 2 relu6), dims, out, threads)
Napi::Value Conv2dJs(const Napi::CallbackInfo& info);
// JS: conv2dBackpropInput(dy, filter, dims, dx, threads)
Napi::Value Conv2dBackpropInputJs(const Napi::CallbackInfo& info);
// JS: conv2dBackpropFilter(x, dy, dims, dw, threads)
Napi::Value Conv2dBackpropFilterJs(const Napi::CallbackInfo& info);

}  // namespace tta
