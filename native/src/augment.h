#pragma once

#include <napi.h>

namespace tta {

// augment(images, n, h, w, c, views, fill, cval, scale, offset, reverseChannels, out,
// threads): writes the view-major batch [views, n, h, w, c] into `out`. `views` is an
// Int32Array of (flip, dx, dy) triples; scale and offset are Float32Arrays of c values. The async variant returns a
// Promise<void>.
Napi::Value Augment(const Napi::CallbackInfo& info);
Napi::Value AugmentAsync(const Napi::CallbackInfo& info);

}  // namespace tta
