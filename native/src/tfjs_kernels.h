// The TensorFlow.js backend's kernel entry points, gathered into one object for addon.cc.
#pragma once

#include <napi.h>

namespace tta {

// { sgemm, backendInfo, conv2d, conv2dBackpropInput, conv2dBackpropFilter, pool2d, maxPoolGrad,
//   avgPoolGrad, matMul, batchNorm, binary, unary, reduce, softmax }
Napi::Object TfjsKernels(Napi::Env env);

}  // namespace tta
