// Softmax over the innermost axis for the TensorFlow.js backend (max-shifted, double sums).
#pragma once

#include <napi.h>

namespace tta {

// JS: softmax(logits, rows, cols, out, threads)
Napi::Value SoftmaxJs(const Napi::CallbackInfo& info);

}  // namespace tta
