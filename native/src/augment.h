#pragma once

#include <napi.h>

namespace tta {

// augment(images, n, h, w, c, outHeight, outWidth, views, fill, cval, scale, offset, reverseChannels, out,
// threads): writes the view-major batch [views, n, outHeight, outWidth, c] into `out`. `views` is a
// Float64Array of records (flip, vflip, quarterTurns, dx, dy, cropTop, cropLeft, cropHeight, cropWidth, zoom);
// scale and offset are Float32Arrays of c values. The async variant returns a Promise<void>.
Napi::Value Augment(const Napi::CallbackInfo& info);
Napi::Value AugmentAsync(const Napi::CallbackInfo& info);

}  // namespace tta
