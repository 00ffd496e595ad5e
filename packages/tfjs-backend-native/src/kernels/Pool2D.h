// NHWC 2-D pooling for the TensorFlow.js backend, with the cpu backend's semantics:
// max ignores NaN and padding, avg divides by the number of in-bounds pixels, the
// max gradient goes to the first maximum of each window, the avg gradient is spread
// with weight 1 / (filterH * filterW).
#pragma once

#include <napi.h>

#include <algorithm>
#include <cstddef>

#include "FusedBatchNorm.h"

namespace tta {

// One pooling's geometry and sizes (checked for overflow when parsed).
struct PoolGeometry {
  size_t n, h, w, c, fh, fw, sh, sw;
  ptrdiff_t padTop, padLeft;
  size_t outH, outW, xSize, ySize;

  // In-bounds window rows/cols of output (oy, ox), clamped like the cpu backend.
  void Window(size_t oy, size_t ox, size_t* y0, size_t* y1, size_t* x0, size_t* x1) const {
    const ptrdiff_t ry = static_cast<ptrdiff_t>(oy * sh) - padTop;
    const ptrdiff_t rx = static_cast<ptrdiff_t>(ox * sw) - padLeft;
    *y0 = static_cast<size_t>(std::max<ptrdiff_t>(0, ry));
    *y1 = static_cast<size_t>(std::max<ptrdiff_t>(0, std::min<ptrdiff_t>(h, ry + static_cast<ptrdiff_t>(fh))));
    *x0 = static_cast<size_t>(std::max<ptrdiff_t>(0, rx));
    *x1 = static_cast<size_t>(std::max<ptrdiff_t>(0, std::min<ptrdiff_t>(w, rx + static_cast<ptrdiff_t>(fw))));
  }
};

// Parses and range-checks an Int32Array dims (below); throws a RangeError naming what is wrong.
PoolGeometry ParsePoolGeometry(const Napi::Value& value);

// Output rows [r0, r1) (image-major: n * outH of them) of the max pooling of `in`, each element
// mapped by `affine` first when it is not null (an inference batch norm fused before the
// pooling), on the calling thread. pool2d's max pooling; the convolution block's last step.
void MaxPoolRows(const PoolGeometry& p, const float* in, const ChannelAffine* affine, size_t r0, size_t r1, float* out);

// dims = Int32Array [n, h, w, c, filterH, filterW, strideH, strideW, padTop, padLeft, outH, outW]
// JS: pool2d(x, kind (0 max, 1 avg), dims, out, threads)
Napi::Value Pool2dJs(const Napi::CallbackInfo& info);
// JS: maxPoolGrad(dy, x, dims, dx, threads)
Napi::Value MaxPoolGradJs(const Napi::CallbackInfo& info);
// JS: avgPoolGrad(dy, dims, dx, threads)
Napi::Value AvgPoolGradJs(const Napi::CallbackInfo& info);

}  // namespace tta
