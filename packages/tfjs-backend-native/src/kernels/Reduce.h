// Float32 reductions over any set of axes for the TensorFlow.js backend, walking the
// input in memory order (no transpose). Sums accumulate in double, like the cpu
// backend's JS numbers; Max and Min propagate NaN like it does.
#pragma once

#include <napi.h>

namespace tta {

enum class ReduceOp { kSum, kMean, kMax, kMin };

// JS: reduce(op, x, shape Int32Array, reduced Int32Array (1 = reduce that axis), out, threads)
Napi::Value ReduceJs(const Napi::CallbackInfo& info);

}  // namespace tta
